// The node `mongodb` driver logging in with SCRAM-SHA-256 (usage: node auth.mjs URI-WITH-USER),
// and refused with a wrong password (the same URI with the password replaced by "wrong").
import assert from "node:assert/strict";
import { MongoClient } from "mongodb";

const uri = process.argv[2];
const good = new MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
await good.connect();
await good.db("node_auth").collection("c").insertOne({ _id: 1 });
assert.equal(await good.db("node_auth").collection("c").countDocuments(), 1);
await good.close();

const wrong = new MongoClient(uri.replace(/:[^:@/]*@/, ":wrong@"), { serverSelectionTimeoutMS: 5000 });
await assert.rejects(wrong.connect(), (error) => error.code === 18 || /Authentication failed/.test(error.message));
await wrong.close();
console.log("node auth: ok");
