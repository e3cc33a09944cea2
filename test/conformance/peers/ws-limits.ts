// The ws reference peers validate the driver, so ws's DoS limits (which the conformance cases exceed on
// purpose: 65536 fragments in 9.3.1, 126 pings in one write in 2.12) are raised: 0 disables a limit.
export const WS_LIMITS = {
  maxPayload: 64 * 1024 * 1024,
  maxFragments: 0,
  maxBufferedChunks: 0,
  maxPendingAutoPongs: 0,
};
