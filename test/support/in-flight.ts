/**
 * Most bytes the slow-reader scenario may have sent but not read. Kernel buffers on the
 * four loopback hops (client, tunnel, agent, service) hold around 16 MiB once full; the
 * tunnel and the agent add a few MiB at most. Without backpressure it grows to the cap.
 */
export const IN_FLIGHT_BOUND = 64 * 1024 * 1024
