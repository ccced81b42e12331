// Runs after each test of every suite (jest setupFilesAfterEnv): the explainer agreed with each response
// the test's createApp apps sent (RULES 22; see explain-agreement.ts).
import { takeExplainerMismatches } from './explain-agreement.js';

afterEach(async () => {
  expect(await takeExplainerMismatches()).toEqual([]);
});
