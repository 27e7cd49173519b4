// node-postgres (pg) against queryleaf's PostgreSQL protocol.
// Run: NODE_PATH=<dir>/node_modules node node_pg_check.js PORT
const { Client } = require("pg");

async function main() {
  const client = new Client({ host: "127.0.0.1", port: Number(process.argv[2]), user: "ql", database: "queryleaf" });
  await client.connect();
  const simple = await client.query("SELECT name, age FROM users ORDER BY age");
  console.log("simple " + simple.rows.map((r) => `${r.name}=${r.age}`).join(" "));
  const bound = await client.query({ name: "older", text: "SELECT name FROM users WHERE age > $1 ORDER BY age", values: [40] });
  const again = await client.query({ name: "older", text: "SELECT name FROM users WHERE age > $1 ORDER BY age", values: [30] });
  console.log(`prepared ${bound.rows.map((r) => r.name).join(",")} ${again.rowCount}`);
  const insert = await client.query("INSERT INTO node_rows (a) VALUES ($1), ($2)", [1, 2]);
  console.log(`command ${insert.command} ${insert.rowCount}`);
  try {
    await client.query("SELECT nosuch(a) FROM node_rows");
  } catch (error) {
    console.log(`error ${error.code} ${error.position}`);
  }
  await client.end();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
