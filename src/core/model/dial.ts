// What a dial-a-TG command (a private call to a number) did, answered by a prompt at the call's end.

export type DialOutcome =
  | { kind: 'linked'; tg: number }
  | { kind: 'unlinked' }
  | { kind: 'status'; linked: number }
  | { kind: 'refused'; tg: number }
  | { kind: 'info'; n: number };
