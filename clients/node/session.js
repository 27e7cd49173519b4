// A scripted mongosh session against `queryleaf serve` (run by tests/test_server_node.py):
// insert, query, aggregate, and a change stream resumed from a saved token.
const db = db.getSiblingDB("mongosh_session");
db.orders.drop();
db.orders.insertMany([
  { _id: 1, customer: "ada", total: 250 },
  { _id: 2, customer: "alan", total: 40 },
  { _id: 3, customer: "ada", total: 90 },
]);
const big = db.orders.find({ total: { $gt: 50 } }).sort({ total: -1 }).toArray();
if (JSON.stringify(big.map((d) => d._id)) !== "[1,3]") throw new Error("find: " + tojson(big));
const sums = db.orders
  .aggregate([{ $group: { _id: "$customer", sum: { $sum: "$total" } } }, { $sort: { _id: 1 } }])
  .toArray();
if (sums.length !== 2 || sums[0].sum !== 340) throw new Error("aggregate: " + tojson(sums));
const stream = db.orders.watch();
stream.tryNext();
db.orders.insertOne({ _id: 10 });
db.orders.insertOne({ _id: 11 });
const first = stream.tryNext() || stream.next();
if (first.documentKey._id !== 10) throw new Error("watch: " + tojson(first));
const token = stream.getResumeToken();
stream.close();
const resumed = db.orders.watch([], { resumeAfter: token });
const second = resumed.tryNext() || resumed.next();
if (second.documentKey._id !== 11) throw new Error("resume: " + tojson(second));
resumed.close();
print("mongosh: ok");
