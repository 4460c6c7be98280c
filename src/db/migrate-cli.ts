import { loadConfig } from "../config.ts";
import { openDatabase } from "./client.ts";
import { migrate } from "./migrate.ts";

const config = loadConfig();
const database = await openDatabase(config);
await migrate(database);
await database.close();
console.log(`migrations applied (${database.kind})`);
