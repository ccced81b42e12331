// Creates (f)'s tables and clients in DATABASE_URL, then exits: run by apps.mjs before a (f) server starts, so that
// the server process itself never runs TypeORM's synchronize (see setUpDatabase in apps.mjs).
import { postgres, setUpDatabase } from './apps.mjs';

const ds = await setUpDatabase(postgres(process.env.DATABASE_URL));
await ds.destroy();
