package io.flowstack.tools.bench;

import io.flowstack.core.FlowStack;
import io.flowstack.core.socket.StackException;
import io.flowstack.core.socket.TcpConnection;
import io.flowstack.core.config.TcpSocketOptions;
import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;

/**
 * A blocking connection as the thread-per-connection engines see it: the kernel's sockets
 * ({@link Kernel}, a blocking {@link SocketChannel} and direct buffers: no copy on our side) or
 * the stack's blocking API ({@link Stack}, {@link TcpConnection} and byte arrays). The bench
 * loops in {@link BlockingEngine} are written once against this class.
 *
 * <p>Owned by: one reading thread and one writing thread (they may differ); {@link #abort} may
 * come from any thread. Reads land in the owner's {@link Buffers}, so nothing is allocated per
 * read or write.
 */
abstract class Conn implements AutoCloseable {
    private static final VarHandle ACTIVE;

    static {
        try {
            ACTIVE = MethodHandles.lookup().findVarHandle(Conn.class, "lastActive", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final Buffers buf;
    @SuppressWarnings("unused")
    private long lastActive = System.nanoTime();

    Conn(Buffers buf) {
        this.buf = buf;
    }

    /** Reads up to {@code max} bytes (at most the buffers' run) into {@link #rx()}[0, n); -1 at end of stream. */
    abstract int read(int max) throws IOException;

    /** The receive buffer, valid for [0, n) after {@link #read}. */
    final MemorySegment rx() {
        return buf.rxSegment;
    }

    /** Writes {@code len} (at most the buffers' run) bytes of the pattern starting at stream position {@code pos}. */
    abstract void writePattern(long pos, int len) throws IOException;

    /** Writes a small control message (header, trailer). */
    abstract void write(byte[] b) throws IOException;

    abstract void shutdownOutput() throws IOException;

    /** Reads and drops up to 4 KiB into a private buffer (for a second, watching thread); -1 at EOF. */
    abstract int drain() throws IOException;

    /** Closes quietly (FIN). */
    @Override
    public abstract void close();

    /** Ends the connection now, quietly, from any thread (blocked calls then fail). */
    abstract void abort();

    void touch() {
        ACTIVE.setOpaque(this, System.nanoTime());
    }

    long lastActive() {
        return (long) ACTIVE.getOpaque(this);
    }

    /** Reads exactly {@code len} bytes into {@code dst}; false on end of stream before the first byte. */
    final boolean readFully(byte[] dst) throws IOException {
        int got = 0;
        while (got < dst.length) {
            int n = read(dst.length - got);
            if (n < 0) {
                if (got == 0) {
                    return false;
                }
                throw new EOFException("connection closed after " + got + " of " + dst.length + " bytes");
            }
            MemorySegment.copy(rx(), java.lang.foreign.ValueLayout.JAVA_BYTE, 0, dst, got, n);
            got += n;
        }
        return true;
    }

    /**
     * Reads one message of {@code len} pattern bytes, checking them.
     *
     * @return 1 if it was intact, 0 if a byte differed, -1 on end of stream before its first byte
     */
    final int readMessage(int len) throws IOException {
        int got = 0;
        boolean intact = true;
        while (got < len) {
            int n = read(len - got);
            if (n < 0) {
                if (got == 0) {
                    return -1;
                }
                throw new EOFException("connection closed after " + got + " of " + len + " bytes of a message");
            }
            intact &= BenchProtocol.matches(rx(), 0, n, buf.pattern, got);
            got += n;
        }
        return intact ? 1 : 0;
    }

    /** Writes one message of {@code len} pattern bytes, in pieces of at most the run. */
    final void writeMessage(int len) throws IOException {
        int done = 0;
        while (done < len) {
            int n = Math.min(len - done, buf.run);
            writePattern(done, n);
            done += n;
        }
    }

    /**
     * Per-thread buffers: a receive buffer and the pattern to send from, as direct buffers (kernel)
     * or arrays (stack). Owned by: one worker thread.
     */
    static final class Buffers {
        final int run;
        final MemorySegment pattern;
        final MemorySegment rxSegment;
        final ByteBuffer rxDirect;
        final ByteBuffer patternDirect;
        final byte[] rxArray;
        final byte[] patternArray;

        private Buffers(int run, MemorySegment pattern, boolean direct) {
            this.run = run;
            this.pattern = pattern;
            if (direct) {
                MemorySegment rx = Arena.ofAuto().allocate(run, 64);
                this.rxSegment = rx;
                this.rxDirect = rx.asByteBuffer();
                this.patternDirect = pattern.asByteBuffer();
                this.rxArray = null;
                this.patternArray = null;
            } else {
                this.rxArray = new byte[run];
                this.rxSegment = MemorySegment.ofArray(rxArray);
                this.patternArray = pattern.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                this.rxDirect = null;
                this.patternDirect = null;
            }
        }

        /** Buffers for kernel sockets; {@code pattern} from {@link BenchProtocol#pattern} for runs of {@code run}. */
        static Buffers direct(int run, MemorySegment pattern) {
            return new Buffers(run, pattern, true);
        }

        /** Buffers for the stack's blocking API. */
        static Buffers heap(int run, MemorySegment pattern) {
            return new Buffers(run, pattern, false);
        }
    }

    // ------------------------------------------------------------------ kernel sockets

    /** A kernel TCP socket (blocking {@link SocketChannel}). */
    static final class Kernel extends Conn {
        private final SocketChannel ch;
        private ByteBuffer drainBuf;

        Kernel(SocketChannel ch, Buffers buf) {
            super(buf);
            this.ch = ch;
        }

        /** Connects (blocking, with a timeout). */
        static Kernel connect(InetSocketAddress to, boolean noDelay, long timeoutNanos, Buffers buf) throws IOException {
            SocketChannel ch = SocketChannel.open();
            try {
                ch.setOption(StandardSocketOptions.TCP_NODELAY, noDelay);
                ch.socket().connect(to, (int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(timeoutNanos)));
                return new Kernel(ch, buf);
            } catch (IOException | RuntimeException e) {
                ch.close();
                throw e;
            }
        }

        void noDelay(boolean v) throws IOException {
            ch.setOption(StandardSocketOptions.TCP_NODELAY, v);
        }

        @Override
        int read(int max) throws IOException {
            ByteBuffer b = buf.rxDirect;
            b.clear().limit(Math.min(max, buf.run));
            int n = ch.read(b);
            touch();
            return n;
        }

        @Override
        void writePattern(long pos, int len) throws IOException {
            ByteBuffer b = buf.patternDirect;
            int p = (int) (pos % BenchProtocol.PERIOD);
            b.limit(p + len).position(p);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            touch();
        }

        @Override
        void write(byte[] bytes) throws IOException {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                ch.write(b);
            }
        }

        @Override
        void shutdownOutput() throws IOException {
            ch.shutdownOutput();
        }

        @Override
        int drain() throws IOException {
            if (drainBuf == null) {
                drainBuf = ByteBuffer.allocateDirect(4096);
            }
            drainBuf.clear();
            return ch.read(drainBuf);
        }

        @Override
        public void close() {
            try {
                ch.close();
            } catch (IOException ignored) {
                // closing: nothing left to do
            }
        }

        @Override
        void abort() {
            try {
                ch.setOption(StandardSocketOptions.SO_LINGER, 0); // RST, as the stack's abort
            } catch (IOException | RuntimeException ignored) {
                // already closed
            }
            close();
        }
    }

    // ------------------------------------------------------------------ the stack, blocking API

    /** A connection on the stack's blocking API. */
    static final class Stack extends Conn {
        private final TcpConnection c;
        private byte[] drainBuf;

        Stack(TcpConnection c, Buffers buf) {
            super(buf);
            this.c = c;
        }

        static Stack connect(FlowStack stack, int address, int port, boolean noDelay, long timeoutNanos, Buffers buf) {
            TcpSocketOptions o = TcpSocketOptions.defaults(stack.config()).withNoDelay(noDelay);
            return new Stack(stack.tcpConnect(address, port, timeoutNanos, TimeUnit.NANOSECONDS, o), buf);
        }

        @Override
        int read(int max) throws IOException {
            try {
                int n = c.read(buf.rxArray, 0, Math.min(max, buf.run));
                touch();
                return n;
            } catch (StackException e) {
                throw new IOException(e.getMessage(), e);
            }
        }

        @Override
        void writePattern(long pos, int len) throws IOException {
            try {
                c.write(buf.patternArray, (int) (pos % BenchProtocol.PERIOD), len);
                touch();
            } catch (StackException e) {
                throw new IOException(e.getMessage(), e);
            }
        }

        @Override
        void write(byte[] b) throws IOException {
            try {
                c.write(b, 0, b.length);
            } catch (StackException e) {
                throw new IOException(e.getMessage(), e);
            }
        }

        @Override
        void shutdownOutput() {
            c.shutdownOutput();
        }

        @Override
        int drain() throws IOException {
            if (drainBuf == null) {
                drainBuf = new byte[4096];
            }
            try {
                return c.read(drainBuf, 0, drainBuf.length);
            } catch (StackException e) {
                throw new IOException(e.getMessage(), e);
            }
        }

        @Override
        public void close() {
            try {
                c.close();
            } catch (RuntimeException ignored) {
                // the stack is closing
            }
        }

        @Override
        void abort() {
            try {
                c.abort();
            } catch (RuntimeException ignored) {
                // the stack is closing
            }
        }
    }
}
