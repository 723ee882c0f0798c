/**
 * The stack: {@link io.flowstack.core.FlowStack}, its sockets and its configuration.
 *
 * <h2>Logging</h2>
 * The stack never writes to {@code System.out} or {@code System.err}: it logs through
 * {@link System.Logger}, so any backend can be bound (java.util.logging by default, or e.g.
 * SLF4J or Log4j through their {@code System.LoggerFinder}). The loggers are:
 * <ul>
 *   <li>{@code io.flowstack.netisr}: {@code ERROR} for an unexpected exception in protocol code,
 *       with its stack trace (the first 10 per core; all are counted under
 *       {@code internal_error});</li>
 *   <li>{@code io.flowstack.tcp}: {@code WARNING} when a {@link io.flowstack.core.socket.TcpHandler} callback throws (the
 *       connection is aborted and counted under {@code tcp_handler_errors});</li>
 *   <li>{@code io.flowstack.services}: {@code WARNING} when a bundled service
 *       ({@code io.flowstack.services}) stops or a connection of it fails unexpectedly.</li>
 * </ul>
 * None of them logs on the data path's normal course.
 */
package io.flowstack.core;
