package io.flowstack.core.config;

/**
 * Per-socket TCP options (immutable): buffer sizes, TCP_NODELAY, SO_KEEPALIVE and the
 * congestion control algorithm. For a listener they apply to every accepted connection.
 *
 * @param sendBufferBytes the send buffer (ring) in bytes; a power of two, at least 4096
 * @param receiveBufferBytes the receive buffer (ring) in bytes, which bounds the advertised window;
 *     a power of two, at least 4096
 * @param noDelay TCP_NODELAY: true sends small segments at once instead of coalescing them
 *     (Nagle's algorithm, RFC 896, off)
 * @param keepAlive SO_KEEPALIVE: true probes an idle connection (timings from
 *     {@link StackConfig#tcpKeepaliveIdleNanos}, {@link StackConfig#tcpKeepaliveIntervalNanos}
 *     and {@link StackConfig#tcpKeepaliveProbes})
 * @param congestionControl the congestion control algorithm, one of
 *     {@link CongestionControls#NAMES} (any case; "reno" for NewReno)
 */
public record TcpSocketOptions(int sendBufferBytes, int receiveBufferBytes, boolean noDelay, boolean keepAlive,
                               String congestionControl) {
    /**
     * Checks the options.
     *
     * @throws IllegalArgumentException if a buffer is not a power of two of at least 4096 bytes,
     *     or the congestion control is unknown
     */
    public TcpSocketOptions {
        if (Integer.bitCount(sendBufferBytes) != 1 || sendBufferBytes < 4096
                || Integer.bitCount(receiveBufferBytes) != 1 || receiveBufferBytes < 4096) {
            throw new IllegalArgumentException("TCP buffers must be powers of two >= 4096 bytes, got send "
                    + sendBufferBytes + " receive " + receiveBufferBytes);
        }
        CongestionControls.canonical(congestionControl); // validates the name
    }

    /**
     * The stack's defaults: its TCP buffer sizes and congestion control, TCP_NODELAY and
     * SO_KEEPALIVE off.
     *
     * @param c the stack's configuration
     * @return the default options
     */
    public static TcpSocketOptions defaults(StackConfig c) {
        return new TcpSocketOptions(c.tcpSendBufferBytes, c.tcpReceiveBufferBytes, false, false,
                c.tcpCongestionControl);
    }

    /**
     * These options with TCP_NODELAY set to {@code v}.
     *
     * @param v true to disable Nagle's algorithm
     * @return a new options record
     */
    public TcpSocketOptions withNoDelay(boolean v) {
        return new TcpSocketOptions(sendBufferBytes, receiveBufferBytes, v, keepAlive, congestionControl);
    }

    /**
     * These options with SO_KEEPALIVE set to {@code v}.
     *
     * @param v true to send keepalive probes on an idle connection
     * @return a new options record
     */
    public TcpSocketOptions withKeepAlive(boolean v) {
        return new TcpSocketOptions(sendBufferBytes, receiveBufferBytes, noDelay, v, congestionControl);
    }

    /**
     * These options with another congestion control algorithm.
     *
     * @param cc one of {@link CongestionControls#NAMES}
     * @return a new options record
     * @throws IllegalArgumentException if {@code cc} is unknown
     */
    public TcpSocketOptions withCongestionControl(String cc) {
        return new TcpSocketOptions(sendBufferBytes, receiveBufferBytes, noDelay, keepAlive, cc);
    }

    /**
     * These options with other buffer sizes.
     *
     * @param send the send buffer in bytes; a power of two, at least 4096
     * @param receive the receive buffer in bytes; a power of two, at least 4096
     * @return a new options record
     * @throws IllegalArgumentException if a size is not a power of two of at least 4096
     */
    public TcpSocketOptions withBuffers(int send, int receive) {
        return new TcpSocketOptions(send, receive, noDelay, keepAlive, congestionControl);
    }

    /**
     * Memory the connection's two rings take.
     *
     * @return {@code sendBufferBytes + receiveBufferBytes}, in bytes
     */
    public long memoryBytes() {
        return (long) sendBufferBytes + receiveBufferBytes;
    }
}
