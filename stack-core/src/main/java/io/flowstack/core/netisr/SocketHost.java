package io.flowstack.core.netisr;

import io.flowstack.core.config.StackConfig;
import io.flowstack.core.flow.IndirectionTable;

/**
 * The stack as its sockets see it: its configuration, its cores and where a flow lands. The
 * stack implements it; sockets never see the stack's class (the socket package sits below the
 * API's root package).
 *
 * <p>Owned by: the stack; every method may be called from any thread.
 */
public interface SocketHost {
    /**
     * The stack's configuration.
     *
     * @return the configuration
     */
    StackConfig config();

    /**
     * The stack's interfaces and their addresses (immutable).
     *
     * @return the interfaces, interface 0 the configuration's
     */
    io.flowstack.core.config.Interfaces interfaces();

    /**
     * Core {@code core}'s netisr (for its identity, its rings and its cross-thread entry points).
     *
     * @param core the core number
     * @return its netisr
     */
    Netisr netisr(int core);

    /**
     * False once the stack is closing.
     *
     * @return false once the stack is closing
     */
    boolean running();

    /**
     * The core that owns the 4-tuple (its bucket's core now).
     *
     * @param local the local IPv4 address, as a big-endian int
     * @param remote the remote IPv4 address
     * @param lport the local port
     * @param rport the remote port
     * @return the core number
     */
    int coreFor(int local, int remote, int lport, int rport);

    /**
     * The indirection table as the stack last published it.
     *
     * @return the table, immutable
     */
    IndirectionTable table();
}
