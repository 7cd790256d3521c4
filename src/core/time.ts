/** "Long ago": an integer timestamp far before any real `now`, so `now - NEVER` exceeds every window. */
export const NEVER = -1_000_000_000_000;
