package io.flowstack.core.tcp;

import io.flowstack.core.config.Interfaces;
import io.flowstack.core.config.StackConfig;
import io.flowstack.core.percore.CoreContext;

/**
 * What every TCP concern of a core holds: the core's {@link TcpLayer} (through which the
 * concerns reach one another and the connection table), the core's context and the
 * configuration.
 *
 * <p>Owned by: the netisr thread of the core, like every subclass.
 */
abstract class TcpPart {
    /** This core's TCP: the other concerns ({@code tcp.out}, {@code tcp.timers}, ...) and the table. */
    final TcpLayer tcp;
    /** This core's context: clock, counters, output, hops, ownership check. */
    final CoreContext n;
    /** The stack's configuration. */
    final StackConfig cfg;
    /** The stack's interfaces: a connection's local address is one of theirs ({@link Tcb#localIf}). */
    final Interfaces ifs;

    TcpPart(TcpLayer tcp) {
        this.tcp = tcp;
        this.n = tcp.n;
        this.cfg = tcp.cfg;
        this.ifs = tcp.n.interfaces();
    }
}
