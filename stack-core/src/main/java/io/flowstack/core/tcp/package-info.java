/**
 * TCP (RFC 9293) for one core, one concern per file. Where each rule lives:
 *
 * <table>
 *   <caption>RFC sections and the class that implements them</caption>
 *   <tr><th>Rule</th><th>Class</th></tr>
 *   <tr><td>RFC 9293 3.3.1 control block, 3.3.2 states</td><td>{@link io.flowstack.core.tcp.Tcb}, {@link io.flowstack.core.tcp.TcpState}</td></tr>
 *   <tr><td>RFC 9293 3.4.1 initial sequence numbers (RFC 6528)</td><td>{@link io.flowstack.core.tcp.Isn}</td></tr>
 *   <tr><td>RFC 9293 3.10.1 OPEN (active), 3.10.7.2 LISTEN, 3.7.1 MSS, RFC 7323 WS/TS and RFC 2018
 *       SACK-permitted negotiation</td><td>{@code TcpOpen}</td></tr>
 *   <tr><td>RFC 4987 3.6 SYN cookies</td><td>{@code SynCookies}</td></tr>
 *   <tr><td>RFC 9293 3.10.7 SEGMENT ARRIVES: 3.10.7.1 CLOSED, 3.10.7.3 SYN-SENT, 3.10.7.4 sequence
 *       check, RST, SYN, text, FIN; RFC 5961 3-4 (RST and SYN challenge ACKs); RFC 7323 5 PAWS
 *       </td><td>{@code TcpInput}</td></tr>
 *   <tr><td>RFC 9293 3.6 and 3.10.7.4 TIME-WAIT as a small entry, not a control block: a
 *       retransmitted FIN restarts the 2 MSL, RST, PAWS (RFC 7323 5.3), RFC 6191 reuse by a new
 *       SYN, RFC 5961 challenge ACKs, RFC 1122 4.2.2.13 and Linux's tcp_tw_reuse for active
 *       opens; the bounded per-core table</td><td>{@code TcpTimeWait}, {@code TimeWaitTable}</td></tr>
 *   <tr><td>RFC 9293 3.10.7.4 "fifth, check the ACK field"; RFC 5961 5 ACK acceptance; RFC 6298
 *       RTT and RTO; RFC 5681 duplicate ACKs</td><td>{@code TcpAck}</td></tr>
 *   <tr><td>RFC 5681 3.2 fast retransmit, RFC 6582 NewReno, RFC 6675 SACK recovery (pipe, NextSeg),
 *       RFC 3042 Limited Transmit, RFC 8985 RACK-TLP, RFC 3522/4015 undo</td>
 *       <td>{@code LossRecovery} (scoreboard: {@link io.flowstack.core.tcp.Scoreboard})</td></tr>
 *   <tr><td>RFC 5681/9438 window growth</td><td>{@link io.flowstack.core.tcp.NewReno},
 *       {@link io.flowstack.core.tcp.Cubic}</td></tr>
 *   <tr><td>RFC 9293 3.7.4 Nagle, 3.8.6.2 SWS avoidance and window updates, segment building
 *       (options: {@link io.flowstack.core.wire.TcpOptionWriter})</td><td>{@code TcpOutput}</td></tr>
 *   <tr><td>RFC 6298 5 retransmission timer, RFC 9293 3.8.6.1 persist, RFC 1122 4.2.3.6
 *       keep-alive, FIN-WAIT-2 timeout, delayed ACK (RFC 5681 4.2)</td><td>{@code TcpTimers}</td></tr>
 *   <tr><td>RFC 9293 3.9 user/TCP interface: close, abort, doorbells, callback upcalls</td>
 *       <td>{@code TcpUser}, {@link io.flowstack.core.tcp.TcpUpcalls}, {@link io.flowstack.core.tcp.TcpStream}</td></tr>
 *   <tr><td>RFC 1122 4.2.3.9, RFC 5461, RFC 5927 ICMP errors; RFC 1191 path MTU</td><td>{@code TcpIcmp}</td></tr>
 *   <tr><td>Bucket moves (docs/REBALANCING.md)</td><td>{@code TcpMigration}</td></tr>
 *   <tr><td>The per-core connection table (PCB hash, listeners, ring memory)</td><td>{@code TcpConnections}</td></tr>
 * </table>
 *
 * <p>{@link io.flowstack.core.tcp.TcpLayer} is the entry point the netisr and the socket layer call.
 * Every class here is owned by one netisr thread, except {@link io.flowstack.core.tcp.TcpStream}
 * (shared with the application by its documented protocol) and the interfaces the socket layer
 * implements. TCP imports no socket, netisr or root class (PackageLayersTest).
 */
package io.flowstack.core.tcp;
