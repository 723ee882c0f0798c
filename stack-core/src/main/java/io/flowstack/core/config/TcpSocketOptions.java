package io.flowstack.core.config;

/**
 * Per-socket TCP options (immutable): buffer sizes, TCP_NODELAY, SO_KEEPALIVE and the
 * congestion control algorithm. For a listener they apply to every accepted connection.
 */
public record TcpSocketOptions(int sendBufferBytes, int receiveBufferBytes, boolean noDelay, boolean keepAlive,
                               String congestionControl) {
    public TcpSocketOptions {
        if (Integer.bitCount(sendBufferBytes) != 1 || sendBufferBytes < 4096
                || Integer.bitCount(receiveBufferBytes) != 1 || receiveBufferBytes < 4096) {
            throw new IllegalArgumentException("TCP buffers must be powers of two >= 4096 bytes, got send "
                    + sendBufferBytes + " receive " + receiveBufferBytes);
        }
        CongestionControls.canonical(congestionControl); // validates the name
    }

    /** The stack's defaults. */
    public static TcpSocketOptions defaults(StackConfig c) {
        return new TcpSocketOptions(c.tcpSendBufferBytes, c.tcpReceiveBufferBytes, false, false,
                c.tcpCongestionControl);
    }

    public TcpSocketOptions withNoDelay(boolean v) {
        return new TcpSocketOptions(sendBufferBytes, receiveBufferBytes, v, keepAlive, congestionControl);
    }

    public TcpSocketOptions withKeepAlive(boolean v) {
        return new TcpSocketOptions(sendBufferBytes, receiveBufferBytes, noDelay, v, congestionControl);
    }

    public TcpSocketOptions withCongestionControl(String cc) {
        return new TcpSocketOptions(sendBufferBytes, receiveBufferBytes, noDelay, keepAlive, cc);
    }

    public TcpSocketOptions withBuffers(int send, int receive) {
        return new TcpSocketOptions(send, receive, noDelay, keepAlive, congestionControl);
    }

    /** Memory the connection's two rings take. */
    public long memoryBytes() {
        return (long) sendBufferBytes + receiveBufferBytes;
    }
}
