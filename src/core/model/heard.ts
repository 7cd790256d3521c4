// Where a subscriber was last heard (for unit data and private calls).

import type { Session } from './session.js';

export interface HeardAt {
  session: Session;
  slot: 1 | 2;
  at: number;
}
