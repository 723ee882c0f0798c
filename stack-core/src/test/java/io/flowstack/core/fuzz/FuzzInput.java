package io.flowstack.core.fuzz;

import java.util.Arrays;

/**
 * A fuzz input read front to back as the fields of a script (a byte for flags, a length, the
 * bytes of a frame); past its end every read gives zeros or nothing, so any input is a script.
 *
 * <p>Owned by: the fuzzing thread.
 */
public final class FuzzInput {
    private final byte[] b;
    private int p;

    public FuzzInput(byte[] b) {
        this.b = b;
    }

    public boolean more() {
        return p < b.length;
    }

    public int remaining() {
        return b.length - p;
    }

    public int u8() {
        return p < b.length ? b[p++] & 0xFF : 0;
    }

    public int u16() {
        return (u8() << 8) | u8();
    }

    public int i32() {
        return (u16() << 16) | u16();
    }

    public boolean bool() {
        return (u8() & 1) != 0;
    }

    /** The next {@code n} bytes, fewer at the end. */
    public byte[] bytes(int n) {
        int k = Math.max(0, Math.min(n, remaining()));
        byte[] r = Arrays.copyOfRange(b, p, p + k);
        p += k;
        return r;
    }

    /** A length-prefixed chunk: a 16-bit length, cut to {@code max}, then that many bytes. */
    public byte[] chunk(int max) {
        return bytes(u16() % (max + 1));
    }

    /** Everything left. */
    public byte[] rest() {
        return bytes(remaining());
    }
}
