import { timingSafeEqual, createHash } from 'node:crypto';

export interface DemoUser {
  sub: string;
  username: string;
  claims: { name: string; given_name: string; family_name: string; email: string; email_verified: boolean };
}

const ALICE: DemoUser = {
  sub: '818727',
  username: 'alice',
  claims: { name: 'Alice Smith', given_name: 'Alice', family_name: 'Smith', email: 'alice@example.com', email_verified: true },
};
// A demo: one user whose password is her name. Real servers keep salted password hashes.
const PASSWORDS = new Map([[ALICE.username, 'alice']]);
const USERS = new Map([[ALICE.sub, ALICE]]);

const digest = (value: string) => createHash('sha256').update(value).digest();

/** The user with this username and password, or undefined; compares in constant time. */
export function checkCredentials(username: unknown, password: unknown): DemoUser | undefined {
  if (typeof username !== 'string' || typeof password !== 'string') return undefined;
  const expected = PASSWORDS.get(username);
  if (expected === undefined || !timingSafeEqual(digest(password), digest(expected))) return undefined;
  return [...USERS.values()].find((user) => user.username === username);
}

export function findUser(sub: string): DemoUser | undefined {
  return USERS.get(sub);
}
