import { systemClock } from "../../clock.ts";
import { StandaloneConfigError, startStandaloneEmulator } from "./standalone.ts";

/** `npm run emulator`: see standalone.ts for the configuration it reads. */
const main = async () => {
  let running: Awaited<ReturnType<typeof startStandaloneEmulator>>;
  try {
    running = await startStandaloneEmulator({ env: process.env, clock: systemClock });
  } catch (error) {
    if (error instanceof StandaloneConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await running.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => void stop());
};

await main();
