package io.flowstack.core.fuzz;

import java.io.ByteArrayOutputStream;

/**
 * Builds seed inputs in {@link FuzzInput}'s layout (the fuzz targets' {@code @MethodSource}s):
 * the fuzzer starts from well-formed scripts and mutates them.
 *
 * <p>Owned by: the thread that builds the seed.
 */
public final class FuzzSeeds {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    public FuzzSeeds u8(int v) {
        out.write(v);
        return this;
    }

    public FuzzSeeds u16(int v) {
        out.write(v >>> 8);
        out.write(v);
        return this;
    }

    public FuzzSeeds i32(int v) {
        return u16(v >>> 16).u16(v);
    }

    public FuzzSeeds bytes(byte[] b) {
        out.writeBytes(b);
        return this;
    }

    /** A chunk as {@link FuzzInput#chunk} reads it. */
    public FuzzSeeds chunk(byte[] b) {
        return u16(b.length).bytes(b);
    }

    public byte[] build() {
        return out.toByteArray();
    }
}
