// The node `mongodb` driver against `queryleaf serve`: insert, query, aggregate, and a change
// stream resumed from a saved token. Usage: node smoke.mjs URI. Exits non-zero on a mismatch.
import assert from "node:assert/strict";
import { MongoClient } from "mongodb";

const uri = process.argv[2];
const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
await client.connect();
try {
  const db = client.db("node_smoke");
  const orders = db.collection("orders");
  await orders.drop().catch(() => {});

  const inserted = await orders.insertMany([
    { _id: 1, customer: "ada", total: 250 },
    { _id: 2, customer: "alan", total: 40 },
    { _id: 3, customer: "ada", total: 90 },
  ]);
  assert.equal(inserted.insertedCount, 3);
  await assert.rejects(orders.insertOne({ _id: 1 }), (error) => error.code === 11000);

  const big = await orders.find({ total: { $gt: 50 } }).sort({ total: -1 }).toArray();
  assert.deepEqual(big.map((d) => d._id), [1, 3]);

  const sums = await orders
    .aggregate([{ $group: { _id: "$customer", sum: { $sum: "$total" } } }, { $sort: { _id: 1 } }])
    .toArray();
  assert.deepEqual(sums, [{ _id: "ada", sum: 340 }, { _id: "alan", sum: 40 }]);

  const updated = await orders.updateMany({ customer: "ada" }, { $inc: { total: 1 } });
  assert.equal(updated.modifiedCount, 2);

  // A change stream: read one event, keep its token, close, resume after it.
  const stream = orders.watch([{ $match: { operationType: "insert" } }]);
  await stream.tryNext(); // opens the cursor before the writes
  await orders.insertOne({ _id: 10, customer: "grace", total: 1 });
  await orders.insertOne({ _id: 11, customer: "grace", total: 2 });
  const first = await stream.next();
  assert.equal(first.documentKey._id, 10);
  const token = stream.resumeToken;
  await stream.close();
  const resumed = orders.watch([], { resumeAfter: token });
  const second = await resumed.next();
  assert.equal(second.documentKey._id, 11);
  assert.equal(second.fullDocument.customer, "grace");
  await resumed.close();

  await assert.rejects(db.command({ noSuchCommand: 1 }), (error) => error.code === 59);
  console.log("node driver: ok");
} finally {
  await client.close();
}
