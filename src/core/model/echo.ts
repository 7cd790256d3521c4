// An echo (parrot) call being recorded for playback.

export interface EchoRecording {
  readonly frames: Uint8Array[];
  truncated: boolean;
}
