package io.flowstack.nic.xdp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.flowstack.nativeio.Bpf;
import io.flowstack.nic.packet.ExtendedBpf;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * The XDP program's bytes, instruction by instruction, as {@code struct bpf_insn} (code, dst:4 |
 * src:4, off, imm; little-endian), and the uapi constants it and its attachment use (checked
 * against linux/bpf.h, linux/if_link.h and linux/if_xdp.h with offsetof/sizeof; docs/AF_XDP.md).
 */
class XdpProgramTest {
    @Test
    void programBytes() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = ExtendedBpf.encode(XdpProgram.insns(0x2a), arena);
            long[] expected = {
                0x0000_0000_0010_1261L, // ldxw r2, [r1 + 16]         (ctx->rx_queue_index)
                0x0000_002a_0000_1118L, // lddw r1, map fd 42         (src 1: BPF_PSEUDO_MAP_FD)
                0x0000_0000_0000_0000L, //   (second half of lddw)
                0x0000_0002_0000_03b7L, // mov64 r3, 2                (XDP_PASS on a miss)
                0x0000_0033_0000_0085L, // call 51                    (bpf_redirect_map)
                0x0000_0000_0000_0095L, // exit
            };
            assertEquals(expected.length * 8L, s.byteSize());
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], s.get(ValueLayout.JAVA_LONG, 8L * i), "insn " + i);
            }
        }
    }

    @Test
    void uapiConstants() {
        assertEquals(6, Bpf.BPF_PROG_TYPE_XDP);
        assertEquals(17, Bpf.BPF_MAP_TYPE_XSKMAP);
        assertEquals(28, Bpf.BPF_LINK_CREATE);
        assertEquals(37, Bpf.BPF_XDP);
        assertEquals(2, Bpf.XDP_FLAGS_SKB_MODE);
        assertEquals(4, Bpf.XDP_FLAGS_DRV_MODE);
        assertEquals(51, XdpProgram.FUNC_REDIRECT_MAP);
        assertEquals(16, XdpProgram.XDP_MD_RX_QUEUE_INDEX);
        assertEquals(2, XdpProgram.XDP_PASS);
        assertEquals(Bpf.XDP_FLAGS_DRV_MODE, XdpProgram.Mode.DRIVER.flags());
        assertEquals(Bpf.XDP_FLAGS_SKB_MODE, XdpProgram.Mode.GENERIC.flags());
    }
}
