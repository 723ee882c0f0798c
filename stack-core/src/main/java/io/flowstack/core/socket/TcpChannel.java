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
public final class TcpChannel extends TcpEnds {
    private TcpStream.Kick kick;
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
        super(s, localAddr, localPort, remoteAddr, remotePort);
        this.kick = kick;
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
        if (r == null) {
            return s.sendBufferBytes; // nothing unsent: a ring is borrowed by the next write
        }
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
        ByteRing r = n > 0 ? kick.sendRing(s) : null; // borrowed from the core's pool if it has none
        if (r == null) {
            n = 0; // no memory for a ring now (counted): onWritable follows once rings come back
        } else {
            long tail = r.tail();
            r.write(tail, src, off, n);
            r.tail(tail + n);
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
