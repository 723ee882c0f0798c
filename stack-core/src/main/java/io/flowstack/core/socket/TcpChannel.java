package io.flowstack.core.socket;

import io.flowstack.core.tcp.ByteRing;
import io.flowstack.core.tcp.TcpStream;
import io.flowstack.core.wire.Ipv4;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;

/**
 * A connection as seen by a {@link TcpHandler}.
 *
 * <p>Owned by: the netisr that owns the connection; use it only inside callbacks (the netisr is
 * then the single producer of the send ring).
 */
public final class TcpChannel {
    private final TcpStream s;
    private TcpStream.Kick kick;
    private final int localAddr;
    private final int localPort;
    private final int remoteAddr;
    private final int remotePort;
    boolean wantWritable;
    /** Application state attached to the connection. */
    public Object attachment;

    /**
     * Stack internal: made by the TCP layer when a handler's connection opens.
     *
     * @param s the connection's stream (its rings and flags)
     * @param kick how the owner is told the stream has news
     * @param localAddr our IPv4 address, as a big-endian int
     * @param localPort our port
     * @param remoteAddr the peer's IPv4 address, as a big-endian int
     * @param remotePort the peer's port
     */
    public TcpChannel(TcpStream s, TcpStream.Kick kick, int localAddr, int localPort, int remoteAddr, int remotePort) {
        this.s = s;
        this.kick = kick;
        this.localAddr = localAddr;
        this.localPort = localPort;
        this.remoteAddr = remoteAddr;
        this.remotePort = remotePort;
    }

    /**
     * Stack internal: the connection's stream.
     *
     * @return the stream
     */
    public TcpStream stream() { return s; }

    /**
     * Stack internal: the connection's new owner takes the channel over after a move.
     *
     * @param k the new owner's kick
     */
    public void rebind(TcpStream.Kick k) {
        s.owner().checkOwner();
        this.kick = k;
    }

    /**
     * Our TCP port.
     *
     * @return the port
     */
    public int localPort() { return localPort; }
    /**
     * The peer's IPv4 address.
     *
     * @return the address, as a big-endian int
     */
    public int remoteAddress() { return remoteAddr; }
    /**
     * The peer's TCP port.
     *
     * @return the port
     */
    public int remotePort() { return remotePort; }
    /**
     * The core (netisr) that owns the connection now.
     *
     * @return the core number
     */
    public int core() { return s.owner().core(); }

    /**
     * The local end (the stack's address and the connection's port), like
     * {@code Socket.getLocalSocketAddress}. Allocates: for set-up and logging, not per segment.
     *
     * @return a new socket address
     */
    public InetSocketAddress localSocketAddress() {
        return Ipv4.toSocketAddress(localAddr, localPort);
    }

    /**
     * The peer, like {@code Socket.getRemoteSocketAddress}; {@link #remoteAddress()} and
     * {@link #remotePort()} are the allocation-free int forms. Allocates: for set-up and logging.
     *
     * @return a new socket address
     */
    public InetSocketAddress remoteSocketAddress() {
        return Ipv4.toSocketAddress(remoteAddr, remotePort);
    }

    /**
     * Free bytes in the send buffer.
     *
     * @return the byte count; 0 once the connection is over
     */
    public int writable() {
        s.owner().checkOwner();
        if (s.ringsReturned) {
            return 0; // the connection is over and its rings serve another one
        }
        ByteRing r = s.send;
        return (int) (r.capacity() - (r.tail() - r.head()));
    }

    /**
     * Queues up to {@code len} bytes for sending; returns how many were accepted (0..len).
     *
     * @param src the bytes
     * @param off where they start in {@code src}
     * @param len the number of bytes
     * @return the number accepted; when fewer than {@code len}, {@link TcpHandler#onWritable}
     *     follows once space frees up
     */
    public int write(MemorySegment src, long off, int len) {
        s.owner().checkOwner(); // the netisr is the send ring's single producer on this API
        if (s.shutdownOutput || s.closed || s.finished || s.ringsReturned) {
            return 0;
        }
        int n = Math.min(len, writable());
        if (n > 0) {
            long tail = s.send.tail();
            s.send.write(tail, src, off, n);
            s.send.tail(tail + n);
            kick.kick(s);
        }
        if (n < len) {
            wantWritable = true;
        }
        return n;
    }

    /**
     * {@link #write(MemorySegment, long, int)} from a heap array.
     *
     * @param src the bytes
     * @param off where they start in {@code src}
     * @param len the number of bytes
     * @return the number accepted (0..len)
     */
    public int write(byte[] src, int off, int len) {
        return write(MemorySegment.ofArray(src), off, len);
    }

    /**
     * Whether onWritable is owed (read and cleared by the TCP layer).
     *
     * @return true if a write accepted less than asked since the last call
     */
    public boolean takeWantWritable() {
        boolean w = wantWritable;
        wantWritable = false;
        return w;
    }

    /** FIN after the queued data. */
    public void shutdownOutput() {
        s.owner().checkOwner();
        s.shutdownOutput = true;
        kick.kick(s);
    }

    /** Graceful close (FIN); no further callbacks but onClosed. */
    public void close() {
        s.owner().checkOwner();
        s.closed = true;
        kick.kick(s);
    }

    /** RST now. */
    public void abort() {
        s.owner().checkOwner();
        s.abort = true;
        s.closed = true;
        kick.kick(s);
    }

    @Override
    public String toString() {
        return "tcp :" + localPort + " <-> " + Ipv4.toString(remoteAddr) + ":" + remotePort;
    }
}
