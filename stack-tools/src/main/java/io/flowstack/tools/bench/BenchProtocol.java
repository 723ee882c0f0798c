package io.flowstack.tools.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The bench wire protocol (docs/BENCHMARKS.md "Protocol"), the same whether either end runs on
 * the kernel's sockets or on the stack.
 *
 * <p>Every connection starts with a 16-byte header from the client, big-endian:
 * <pre>
 *   0  u32  magic 0x46534231 ("FSB1")
 *   4  u8   mode: 1 stream to the server, 2 stream from the server, 3 request/response,
 *                 4 connect/request/response/close
 *   5  u8[3] zero
 *   8  mode 2: u64 bytes the server sends, then FIN (0: until the client's FIN)
 *      modes 3, 4: u32 request size, u32 response size (1..{@value #MAX_MESSAGE})
 *      mode 1: zero
 * </pre>
 * Then: mode 1, the client sends data until it shuts down its side; the server answers with a
 * 16-byte trailer (u32 magic 0x46534245 "FSBE", u32 status: 0 every byte as expected, 1 a byte
 * differed, u64 bytes received) and closes. Mode 2, the server sends data until the count or
 * the client's FIN, then closes. Mode 3, the client sends a request of the request size, the
 * server answers with a response of the response size, repeated (one outstanding); the client
 * ends with FIN and the server closes. Mode 4: one request and one response, then the server
 * closes first (so that TIME_WAIT stays on the server, as with HTTP/1.0).
 *
 * <p>Data bytes follow a fixed pattern so that the receiver can check them: byte {@code i} of a
 * stream (counted from the first byte after the header), or of each request and response, is
 * {@code (byte) (i % 251)}, as in the HTTP service's {@code /bytes/N}.
 */
public final class BenchProtocol {
    public static final int DEFAULT_PORT = 5201;
    public static final int MAGIC = 0x46534231;
    public static final int TRAILER_MAGIC = 0x46534245;
    public static final int HEADER_BYTES = 16;
    public static final int TRAILER_BYTES = 16;
    /** Largest request or response size (16 MiB). */
    public static final int MAX_MESSAGE = 1 << 24;
    public static final int PERIOD = 251;

    public static final int MODE_TO_SERVER = 1;
    public static final int MODE_FROM_SERVER = 2;
    public static final int MODE_RR = 3;
    public static final int MODE_CRR = 4;

    public static final int STATUS_OK = 0;
    public static final int STATUS_CORRUPT = 1;

    private BenchProtocol() {
    }

    /** A decoded header. {@code count}: mode 2 only; {@code request}/{@code response}: modes 3 and 4. */
    public record Header(int mode, long count, int request, int response) {
        public static Header toServer() {
            return new Header(MODE_TO_SERVER, 0, 0, 0);
        }

        public static Header fromServer(long count) {
            return new Header(MODE_FROM_SERVER, count, 0, 0);
        }

        public static Header rr(int request, int response) {
            return new Header(MODE_RR, 0, request, response);
        }

        public static Header crr(int request, int response) {
            return new Header(MODE_CRR, 0, request, response);
        }

        public byte[] encode() {
            ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.BIG_ENDIAN);
            b.putInt(MAGIC).put((byte) mode).put((byte) 0).putShort((short) 0);
            if (mode == MODE_FROM_SERVER) {
                b.putLong(count);
            } else {
                b.putInt(request).putInt(response);
            }
            return b.array();
        }

        /** Whether the response of this mode is followed by the server's close (mode 4). */
        public boolean closesAfterResponse() {
            return mode == MODE_CRR;
        }
    }

    /** A peer that does not speak the protocol. */
    public static final class ProtocolException extends Exception {
        private static final long serialVersionUID = 1L;

        public ProtocolException(String message) {
            super(message);
        }
    }

    /** Decodes and checks a header. */
    public static Header decode(byte[] h) throws ProtocolException {
        ByteBuffer b = ByteBuffer.wrap(h, 0, HEADER_BYTES).order(ByteOrder.BIG_ENDIAN);
        int magic = b.getInt();
        if (magic != MAGIC) {
            throw new ProtocolException(String.format("bad magic 0x%08x (not a flowstack bench client)", magic));
        }
        int mode = b.get() & 0xFF;
        b.get();
        b.getShort();
        switch (mode) {
            case MODE_TO_SERVER -> {
                return Header.toServer();
            }
            case MODE_FROM_SERVER -> {
                long count = b.getLong();
                if (count < 0) {
                    throw new ProtocolException("negative byte count " + count);
                }
                return Header.fromServer(count);
            }
            case MODE_RR, MODE_CRR -> {
                int req = b.getInt();
                int resp = b.getInt();
                if (req < 1 || req > MAX_MESSAGE || resp < 1 || resp > MAX_MESSAGE) {
                    throw new ProtocolException("message sizes must be 1.." + MAX_MESSAGE + ", got request " + req
                            + " response " + resp);
                }
                return new Header(mode, 0, req, resp);
            }
            default -> throw new ProtocolException("unknown mode " + mode);
        }
    }

    /** The trailer the server sends after a stream to it: status and bytes received. */
    public record Trailer(int status, long bytes) {
        public byte[] encode() {
            return ByteBuffer.allocate(TRAILER_BYTES).order(ByteOrder.BIG_ENDIAN)
                    .putInt(TRAILER_MAGIC).putInt(status).putLong(bytes).array();
        }

        public static Trailer decode(byte[] t) throws ProtocolException {
            ByteBuffer b = ByteBuffer.wrap(t, 0, TRAILER_BYTES).order(ByteOrder.BIG_ENDIAN);
            int magic = b.getInt();
            if (magic != TRAILER_MAGIC) {
                throw new ProtocolException(String.format("bad trailer magic 0x%08x", magic));
            }
            return new Trailer(b.getInt(), b.getLong());
        }

        public boolean intact() {
            return status == STATUS_OK;
        }
    }

    /** The pattern byte at stream or message position {@code i}. */
    public static byte patternByte(long i) {
        return (byte) (i % PERIOD);
    }

    /** Length of a pattern buffer from which any run of up to {@code maxRun} bytes starts at {@code pos % 251}. */
    public static int patternLength(int maxRun) {
        return PERIOD * ((maxRun + PERIOD - 1) / PERIOD + 1);
    }

    /** An off-heap pattern buffer (see {@link #patternLength}); byte j is {@code j % 251}. */
    public static MemorySegment pattern(Arena arena, int maxRun) {
        int len = patternLength(maxRun);
        MemorySegment s = arena.allocate(len, 64);
        for (int j = 0; j < len; j++) {
            s.set(ValueLayout.JAVA_BYTE, j, patternByte(j));
        }
        return s;
    }

    /** The same pattern on the heap. */
    public static byte[] patternArray(int maxRun) {
        byte[] b = new byte[patternLength(maxRun)];
        for (int j = 0; j < b.length; j++) {
            b[j] = patternByte(j);
        }
        return b;
    }

    /**
     * Whether {@code data[off, off + len)} is the pattern from position {@code pos} on
     * ({@code len} at most the run the pattern was made for). One vectorized comparison.
     */
    public static boolean matches(MemorySegment data, long off, int len, MemorySegment pattern, long pos) {
        long p = pos % PERIOD;
        return MemorySegment.mismatch(data, off, off + len, pattern, p, p + len) < 0;
    }

    /** As {@link #matches} for runs longer than the pattern's: compared piece by piece. */
    public static boolean matchesLong(MemorySegment data, long off, long len, MemorySegment pattern, long pos) {
        long maxRun = pattern.byteSize() - PERIOD;
        while (len > 0) {
            int n = (int) Math.min(len, maxRun);
            if (!matches(data, off, n, pattern, pos)) {
                return false;
            }
            off += n;
            pos += n;
            len -= n;
        }
        return true;
    }
}
