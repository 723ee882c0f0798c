package io.flowstack.nic.packet;

import static io.flowstack.nic.packet.ClassicBpf.ABS;
import static io.flowstack.nic.packet.ClassicBpf.ADD;
import static io.flowstack.nic.packet.ClassicBpf.ALU;
import static io.flowstack.nic.packet.ClassicBpf.AND;
import static io.flowstack.nic.packet.ClassicBpf.B;
import static io.flowstack.nic.packet.ClassicBpf.H;
import static io.flowstack.nic.packet.ClassicBpf.IMM;
import static io.flowstack.nic.packet.ClassicBpf.IND;
import static io.flowstack.nic.packet.ClassicBpf.JEQ;
import static io.flowstack.nic.packet.ClassicBpf.JGE;
import static io.flowstack.nic.packet.ClassicBpf.JSET;
import static io.flowstack.nic.packet.ClassicBpf.K;
import static io.flowstack.nic.packet.ClassicBpf.LD;
import static io.flowstack.nic.packet.ClassicBpf.LDX;
import static io.flowstack.nic.packet.ClassicBpf.LSH;
import static io.flowstack.nic.packet.ClassicBpf.MEM;
import static io.flowstack.nic.packet.ClassicBpf.MISC;
import static io.flowstack.nic.packet.ClassicBpf.MOD;
import static io.flowstack.nic.packet.ClassicBpf.MSH;
import static io.flowstack.nic.packet.ClassicBpf.RET;
import static io.flowstack.nic.packet.ClassicBpf.SKF_AD_OFF;
import static io.flowstack.nic.packet.ClassicBpf.SKF_AD_PROTOCOL;
import static io.flowstack.nic.packet.ClassicBpf.SKF_NET_OFF;
import static io.flowstack.nic.packet.ClassicBpf.ST;
import static io.flowstack.nic.packet.ClassicBpf.SUB;
import static io.flowstack.nic.packet.ClassicBpf.TAX;
import static io.flowstack.nic.packet.ClassicBpf.TXA;
import static io.flowstack.nic.packet.ClassicBpf.X;
import static io.flowstack.nic.packet.ClassicBpf.XOR;

import io.flowstack.nic.Toeplitz;

/**
 * Receive-side scaling in the kernel for {@link FanoutMode#TOEPLITZ}: a classic BPF program run
 * by {@code PACKET_FANOUT_CBPF} that picks, for every received frame, the fanout member (= the
 * queue, = the netisr core) that owns its flow, so that no frame has to hop between cores.
 *
 * <p>It is the NIC-side twin of the stack's flow hash, like a NIC's RSS: the symmetric Toeplitz
 * hash with the stack's key, one 16-bit pattern repeated (Woo and Park; key, buckets and key
 * windows from {@link Toeplitz}; its windows are the program's constants), an indirection table of
 * {@value Toeplitz#BUCKETS} buckets dealt round robin ({@code queue = (hash & 127) % queues}), over
 * the same inputs: (src, dst, sport, dport) for TCP and UDP, (src, dst) for other IPv4 and for
 * fragments, and for ICMP errors the quoted datagram's addresses (and ports when it is TCP or UDP
 * and its first fragment). The tests check it against the stack's {@code FlowHash} frame by
 * frame. Frames that are not IPv4 (ARP) go to queue 0, as does a frame too short for a load the
 * program makes (the kernel then ends the program with 0).
 *
 * <p>Because the key repeats every 16 bits, the 32-bit key window an input bit selects depends
 * only on the bit's position inside its 16-bit word, and the hash is linear in its input bits:
 * {@code hash(words) = f(w1 ^ w2 ^ ... ^ wn)}, with {@code f(x)} the XOR of the windows of the
 * bits set in {@code x}. The program therefore XORs the 16-bit words of the tuple and then
 * applies {@code f} with 16 branch-free shift-mask-multiply-XOR steps: about 200 instructions, no
 * loop. {@link #tapBucketProgram(Toeplitz)} is the same hash for the multi-queue TAP's eBPF steering.
 *
 * <p>If the stack replaces its indirection table at run time the program no longer matches;
 * frames then hop (still correct, only slower).
 *
 * <p>Owned by: nobody (stateless).
 */
public final class ToeplitzSteering {
    private static final int PROTO_TCP = 6;
    private static final int PROTO_UDP = 17;
    private static final int PROTO_ICMP = 1;
    /** M[] slots: x (XOR of the words), l4 length, scratch words, inner header length and protocol. */
    private static final int M_X = 0;
    private static final int M_L4LEN = 3;
    private static final int M_T0 = 2;
    private static final int M_T1 = 4;
    private static final int M_T2 = 5;
    private static final int M_T3 = 6;
    private static final int M_IHL = 7;
    private static final int M_T4 = 8;
    private static final int M_PROTO = 9;

    private ToeplitzSteering() {
    }

    /** The program for a fanout group of {@code queues} members, hashing with {@code key}. */
    public static ClassicBpf.Program program(int queues, Toeplitz key) {
        if (queues < 1 || queues > Toeplitz.BUCKETS) {
            throw new IllegalArgumentException("queues must be in [1, " + Toeplitz.BUCKETS + "]: " + queues);
        }
        return build(queues, key);
    }

    /**
     * The bucket program for the eBPF steering of the TAP and of AF_PACKET ({@code SteeringTable}): the same hash of
     * (src, dst, sport, dport) for TCP and UDP and (src, dst) for fragments and every other
     * IPv4 datagram, returning {@code hash & 127}; 0 for a frame that is not IPv4. ICMP errors are
     * hashed by their outer addresses (they may then hop to the owner of the quoted flow): parsing
     * the quoted header too takes the eBPF verifier past its budget of a million instructions
     * walked, as it does not prune the paths of this program.
     */
    public static ClassicBpf.Program tapBucketProgram(Toeplitz key) {
        final int net = SKF_NET_OFF;
        ClassicBpf p = new ClassicBpf();
        ipv4AddressesOrFragment(p, net);
        p.op(LD | B | ABS, net + 9);
        p.jump(JEQ | K, PROTO_TCP, "ports", null);
        p.jump(JEQ | K, PROTO_UDP, "ports", "hash");
        p.label("ports");
        p.op(LDX | B | MSH, net);
        p.op(LD | H | ABS, net + 2);
        p.op(ALU | SUB | X, 0);
        p.jump(JGE | K, 4, null, "hash");
        xorPortsAt(p, net);
        p.label("hash");
        hashOfX(p, key);
        p.op(RET | ClassicBpf.A, 0);
        p.label("ret0");
        p.op(RET | K, 0);
        return p.assemble();
    }

    /**
     * The start both programs share: IPv4 only (skb->protocol, then the version nibble; else to
     * {@code ret0}); {@code M[x] = src.hi ^ src.lo ^ dst.hi ^ dst.lo}; a fragment (MF or an
     * offset) goes to {@code hash} with the addresses alone.
     */
    private static void ipv4AddressesOrFragment(ClassicBpf p, int net) {
        p.op(LD | H | ABS, SKF_AD_OFF + SKF_AD_PROTOCOL);
        p.jump(JEQ | K, 0x0800, null, "ret0");
        p.op(LD | B | ABS, net);
        p.op(ALU | AND | K, 0xf0);
        p.jump(JEQ | K, 0x40, null, "ret0");
        xorWordsAbs(p, net + 12);
        p.op(ST, M_X);
        p.op(LD | H | ABS, net + 6);
        p.jump(JSET | K, 0x3fff, "hash", null);
    }

    private static ClassicBpf.Program build(int queues, Toeplitz key) {
        final int net = SKF_NET_OFF;
        ClassicBpf p = new ClassicBpf();
        ipv4AddressesOrFragment(p, net);
        // X = outer header length, M[l4len] = total length - header length
        p.op(LDX | B | MSH, net);
        p.op(LD | H | ABS, net + 2);
        p.op(ALU | SUB | X, 0);
        p.op(ST, M_L4LEN);
        p.op(LD | B | ABS, net + 9);
        p.jump(JEQ | K, PROTO_TCP, "ports", null);
        p.jump(JEQ | K, PROTO_UDP, "ports", null);
        p.jump(JEQ | K, PROTO_ICMP, "icmp", "hash");

        // TCP/UDP with at least 4 bytes of transport header: x ^= sport ^ dport
        p.label("ports");
        p.op(LD | MEM, M_L4LEN);
        p.jump(JGE | K, 4, null, "hash");
        xorPortsAt(p, net);
        p.ja("hash");

        // ICMP errors (RFC 792) with a quoted header: hash what is quoted
        p.label("icmp");
        p.op(LD | MEM, M_L4LEN);
        p.jump(JGE | K, 8 + 20, null, "hash");
        p.op(LD | B | IND, net);
        p.jump(JEQ | K, 3, "error", null);  // destination unreachable
        p.jump(JEQ | K, 4, "error", null);  // source quench
        p.jump(JEQ | K, 5, "error", null);  // redirect
        p.jump(JEQ | K, 11, "error", null); // time exceeded
        p.jump(JEQ | K, 12, "error", "hash"); // parameter problem
        p.label("error");
        p.op(LD | B | IND, net + 8);
        p.op(ALU | AND | K, 0xf0);
        p.jump(JEQ | K, 0x40, null, "hash"); // not IPv4 inside: the outer addresses
        // x = inner src/dst words (X still holds the outer header length)
        p.op(LD | H | IND, net + 8 + 12);
        p.op(ST, M_T0);
        p.op(LD | H | IND, net + 8 + 14);
        p.op(ST, M_T1);
        p.op(LD | H | IND, net + 8 + 16);
        p.op(ST, M_T2);
        p.op(LD | H | IND, net + 8 + 18);
        p.op(ST, M_T3);
        p.op(LD | B | IND, net + 8);
        p.op(ALU | AND | K, 0x0f);
        p.op(ALU | LSH | K, 2);
        p.op(ST, M_IHL);
        p.op(LD | H | IND, net + 8 + 6);
        p.op(ST, M_T4);
        p.op(LD | B | IND, net + 8 + 9);
        p.op(ST, M_PROTO);
        p.op(LD | MEM, M_T0);
        xorMem(p, M_T1);
        xorMem(p, M_T2);
        xorMem(p, M_T3);
        p.op(ST, M_X);
        p.op(LD | MEM, M_PROTO);
        p.jump(JEQ | K, PROTO_TCP, "iproto", null);
        p.jump(JEQ | K, PROTO_UDP, "iproto", "hash");
        p.label("iproto");
        p.op(LD | MEM, M_IHL);
        p.jump(JGE | K, 20, null, "hash");
        p.op(LD | MEM, M_T4);
        p.jump(JSET | K, 0x1fff, "hash", null); // not the first fragment: no ports
        // the quote must hold ihl + 4 bytes: l4len - 8 >= ihl + 4
        p.op(LD | MEM, M_IHL);
        p.op(ALU | ADD | K, 12);
        p.op(MISC | TAX, 0);
        p.op(LD | MEM, M_L4LEN);
        p.jump(JGE | X, 0, null, "hash");
        // X = outer ihl + 8 + inner ihl: the quoted ports
        p.op(LDX | B | MSH, net);
        p.op(MISC | TXA, 0);
        p.op(ALU | ADD | K, 8);
        p.op(LDX | MEM, M_IHL);
        p.op(ALU | ADD | X, 0);
        p.op(MISC | TAX, 0);
        xorPortsAt(p, net);
        p.ja("hash");

        p.label("hash");
        hashOfX(p, key);
        p.op(ALU | MOD | K, queues);
        p.op(RET | ClassicBpf.A, 0);
        p.label("ret0");
        p.op(RET | K, 0);
        return p.assemble();
    }

    /**
     * A = f(M[x]) & 127: XOR the key window of every bit set in x, without a branch per bit
     * (X ^= ((x >> (15 - b)) & 1) * window(b)), which the eBPF verifier walks once, not 2^16
     * times, when the program is translated for the TAP ({@link ExtendedBpf}). (With
     * {@code -bit & window} instead of the multiplication, kernel 6.18's verifier still walked
     * over a million instructions: it splits on the negation.)
     */
    private static void hashOfX(ClassicBpf p, Toeplitz key) {
        p.op(LDX | IMM, 0);
        for (int b = 0; b < 16; b++) {
            p.op(LD | MEM, M_X);
            p.op(ALU | ClassicBpf.RSH | K, 15 - b);
            p.op(ALU | AND | K, 1);
            p.op(ALU | ClassicBpf.MUL | K, key.window(b));
            p.op(ALU | XOR | X, 0);
            p.op(MISC | TAX, 0);
        }
        p.op(MISC | TXA, 0);
        p.op(ALU | AND | K, Toeplitz.BUCKETS - 1);
    }

    /** A = [base]^[base+2]^[base+4]^[base+6] (absolute 16-bit loads); uses X. */
    private static void xorWordsAbs(ClassicBpf p, int base) {
        p.op(LD | H | ABS, base);
        p.op(MISC | TAX, 0);
        for (int o = 2; o < 8; o += 2) {
            p.op(LD | H | ABS, base + o);
            p.op(ALU | XOR | X, 0);
            p.op(MISC | TAX, 0);
        }
        p.op(MISC | TXA, 0);
    }

    /** M[x] ^= [X+base] ^ [X+base+2] (the two ports at X); clobbers X. */
    private static void xorPortsAt(ClassicBpf p, int base) {
        p.op(LD | H | IND, base);
        p.op(ST, M_T0);
        p.op(LD | H | IND, base + 2);
        xorMem(p, M_T0);
        xorMem(p, M_X);
        p.op(ST, M_X);
    }

    /** A ^= M[slot]; clobbers X. */
    private static void xorMem(ClassicBpf p, int slot) {
        p.op(LDX | MEM, slot);
        p.op(ALU | XOR | X, 0);
    }
}
