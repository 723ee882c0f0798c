package io.flowstack.core.netisr;

import io.flowstack.core.flow.IndirectionTable;
import io.flowstack.core.percore.Ownership;
import io.flowstack.core.percore.Counters;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.config.Interfaces;
import io.flowstack.core.config.StackConfig;
import io.flowstack.core.config.StaticRoute;
import io.flowstack.core.forward.Forwarder;
import io.flowstack.core.arp.ArpLayer;
import io.flowstack.core.ip.IcmpLayer;
import io.flowstack.core.ip.Ipv4Layer;
import io.flowstack.core.ip.Transports;
import io.flowstack.core.percore.CoreContext;
import io.flowstack.core.tcp.Isn;
import io.flowstack.core.tcp.StreamOwner;
import io.flowstack.core.tcp.TcpStream;
import io.flowstack.core.tcp.TcpLayer;
import io.flowstack.core.udp.UdpLayer;
import io.flowstack.core.wire.Ethernet;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.core.wire.msg.ArpUpdateMsg;
import io.flowstack.core.wire.msg.DatagramMsg;
import io.flowstack.core.wire.msg.Ipv4FrameMsg;
import io.flowstack.core.wire.msg.MigrateAdoptMsg;
import io.flowstack.core.wire.msg.TimeWaitMsg;
import io.flowstack.core.wire.msg.MigrateMarkFwdMsg;
import io.flowstack.core.wire.msg.MigrateMarkMsg;
import io.flowstack.core.wire.msg.MigrateViewMsg;
import io.flowstack.core.wire.msg.TcpDoorbellFwdMsg;
import io.flowstack.core.wire.msg.TcpDoorbellMsg;
import io.flowstack.core.wire.msg.UdpSendMsg;
import io.flowstack.nativeio.Affinity;
import io.flowstack.nativeio.EventFd;
import io.flowstack.nativeio.Poller;
import io.flowstack.nic.FrameBatch;
import io.flowstack.nic.TxFrame;
import io.flowstack.nic.NicQueue;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.List;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.OneToOneConcurrentArrayQueue;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;

/**
 * One protocol thread per core (DragonFly's netisr): it polls its own NIC queue, the rings from
 * the other cores, the application ring and the control queue, and runs every protocol layer
 * for the flows that hash to it.
 *
 * <p>Owned by: the thread that runs it, its own {@code netisr-N} or {@code netisr-0} while its
 * thread is parked ({@link CoreParking}: the taker claims the ownership first); after
 * {@link #onStart()} every method except {@link #wake()}, {@link #sleeping()}, {@link #submit}
 * and the ring producers must be called from that thread, and {@link #checkOwner()} asserts it.
 */
public final class Netisr implements Agent, CoreContext, Transports, StreamOwner {
    // The messages on the rings (type ids, layouts): io.flowstack.core.wire.msg.

    /** Largest frame any layer builds: Ethernet + a maximal IPv4 datagram. */
    public static final int MAX_FRAME = Ethernet.HEADER_LEN + Ipv4.MAX_DATAGRAM;

    private static final System.Logger LOG = System.getLogger("io.flowstack.netisr");
    private static final long TICK_NANOS = 10_000_000L;
    private static final int READ_LIMIT = 64;

    private final int core;
    private final StackConfig config;
    private final NicPorts nics;
    private final Interfaces ifs;
    private final int mtu;
    private final Counters counters;
    private final Ownership ownership;
    private final Arena arena = Arena.ofShared();
    private final FrameBatch rxBatch;
    private final RxBatchInput rxInput;
    private final MemorySegment tx;
    private final TxFrame txFrame = new TxFrame();
    private final EventFd wakeFd;
    private final Poller poller;
    private volatile boolean sleeping;
    private volatile boolean lateWatch; // a sleep timed out with signalled work: producers signal as if it slept
    private volatile boolean running = true;
    /** When the NICs are read: every pass, or while the thread spins idle only when due ({@link #idleSpin}). */
    private final IdleNicReads nicReads;
    /** No NIC is read until the stack opens receive ({@link #holdReceive}, {@link #openReceive}). */
    private boolean rxHeld;

    private Netisr[] peers;
    private Rings.Ring<OneToOneRingBuffer>[] outbox; // [target core], null for self
    private Rings.Ring<OneToOneRingBuffer>[] inbox; // [sender core], null for self
    private MessageHandler[] inboxHandlers;
    /**
     * [target core]: a message to it is committed (or about to be) and its wake-up not yet
     * flushed ({@link #flushWakeups}). Written by this netisr (set before the commit, cleared
     * after the signal), read by the target when its sleep times out ({@link #wakeOwed}).
     */
    private final boolean[] wakePending;
    private final ArpUpdates arpUpdates;
    /** Some {@link #wakePending} entry is set (owner thread only): spares a pass the scan. */
    private boolean anyWakePending;
    private final Rings.Ring<ManyToOneRingBuffer> appRing;
    private final MessageHandler appHandler;
    private final ManyToOneConcurrentArrayQueue<NetisrCommand> commands =
            new ManyToOneConcurrentArrayQueue<>(4096);
    /** This core's replica of the indirection table; written by this netisr only (volatile: stats read it). */
    private volatile IndirectionTable table;
    private final long[] bucketPackets;
    private final BucketMoves moves;
    private OneToOneConcurrentArrayQueue<Migration>[] migrationOut; // [target core], null for self

    /** [interface]: ARP of this core's replica of each interface's neighbour cache. */
    private final ArpLayer[] arps;
    private final Ipv4Layer ip;
    private final IcmpLayer icmp;
    /** Forwarding of datagrams for other hosts (a router), or null (a host drops them). */
    private final Forwarder forwarder;
    private final EthernetInput ethernet;
    private final UdpLayer udp;
    private final TcpLayer tcp;
    private final NetisrTickers tickers;

    private long now;
    private long nextTick;

    /**
     * Core {@code core} of a stack whose interfaces are {@code ifs}.
     *
     * @param queues this core's queue of each interface ({@code queues[i]} of interface {@code i})
     * @param routes the static routes the stack starts with
     */
    public Netisr(int core, StackConfig config, NicQueue[] queues, Interfaces ifs, List<StaticRoute> routes,
                  IndirectionTable table, Isn isn) {
        this.core = core;
        this.config = config;
        this.ifs = ifs;
        this.mtu = ifs.minMtu();
        this.table = table;
        this.ownership = new Ownership("netisr-" + core);
        this.counters = new Counters(core, ownership);
        this.nics = new NicPorts(queues, counters);
        // The longest frame: the largest link MTU (plus a VLAN tag's room), or a GSO super-frame
        int longest = Math.max(ifs.maxMtu() + Ethernet.HEADER_LEN + 4, nics.maxReceiveFrame());
        boolean softGro = nics.anySoftGro();
        if (softGro) {
            longest = Math.max(longest, Ethernet.HEADER_LEN + Ipv4.MAX_DATAGRAM); // what software GRO may build
        }
        int slot = Math.max(2048, (longest + 63) & ~63);
        this.rxBatch = new FrameBatch(arena, config.rxBatch, slot);
        this.rxInput = new RxBatchInput(this, new UdpSuperFrames(this, arena, slot),
                softGro ? new SoftGro(config.rxBatch, counters) : null, nics);
        this.tx = arena.allocate(MAX_FRAME + 64, 64);
        this.wakeFd = EventFd.create();
        this.poller = new Poller(1 + queues.length);
        this.wakePending = new boolean[config.cores];
        this.arpUpdates = new ArpUpdates(this, config.cores);
        this.appRing = Rings.mpsc(arena, config.appRingBytes);
        this.now = config.clock.nanoTime();
        this.arps = new ArpLayer[ifs.count()];
        for (int i = 0; i < arps.length; i++) {
            arps[i] = new ArpLayer(this, arena, i);
        }
        this.icmp = new IcmpLayer(this, this);
        this.ip = new Ipv4Layer(this, arena, arps, icmp, this, routes, isn.ipIdKey(), isn.coreSeed(core, Isn.IP_ID_SEED));
        this.forwarder = ifs.forwarding() ? new Forwarder(this, arena, ip.fib(), icmp, arps) : null;
        this.ethernet = new EthernetInput(this, ifs, arps, ip, forwarder);
        this.udp = new UdpLayer(this, icmp);
        this.tcp = new TcpLayer(this, this::peer, isn);
        this.tickers = new NetisrTickers(ownership, this::internalError);
        this.bucketPackets = new long[table.size()];
        this.moves = new BucketMoves(this, arena, config.cores, table.size(), config.moveHoldBytes,
                config.rxBatch, slot);
        MemorySegment appSeg = appRing.segment();
        this.appHandler = (type, buffer, index, length) -> onAppMessage(type, appSeg, index, length);
        this.nicReads = new IdleNicReads(nics, config.idleNicCheckNanos);
        nics.readyNotifier(this::wake);
    }

    /** Wires this core to the others; called once by the stack before any thread starts. */
    @SuppressWarnings("unchecked")
    public void connect(Netisr[] all, Rings.Ring<OneToOneRingBuffer>[][] rings) {
        this.peers = all;
        int n = all.length;
        this.outbox = new Rings.Ring[n];
        this.inbox = new Rings.Ring[n];
        this.inboxHandlers = new MessageHandler[n];
        this.migrationOut = new OneToOneConcurrentArrayQueue[n];
        for (int other = 0; other < n; other++) {
            if (other == core) {
                continue;
            }
            outbox[other] = rings[core][other];
            inbox[other] = rings[other][core];
            migrationOut[other] = new OneToOneConcurrentArrayQueue<>(64);
            MemorySegment seg = rings[other][core].segment();
            int sender = other;
            inboxHandlers[other] = (type, buffer, index, length) -> onInterCore(sender, type, seg, index, length);
        }
    }

    // ------------------------------------------------------------------ accessors (owner thread)

    public int core() { return core; }
    public StackConfig config() { return config; }
    public Counters counters() { return counters; }
    public int mtu() { return mtu; }
    public long now() { return now; }
    /** ARP of interface {@code ifIndex} on this core. */
    public ArpLayer arp(int ifIndex) { return arps[ifIndex]; }
    public Interfaces interfaces() { return ifs; }
    /** Interface {@code i}'s counters on this core (owner thread): rx frames, rx bytes, tx frames, tx bytes, tx drops. */
    public long[] interfaceCounters(int i) { ownership.check(); return nics.counters(i); }
    public Ipv4Layer ip() { return ip; }
    public IcmpLayer icmp() { return icmp; }
    public UdpLayer udp() { return udp; }
    public TcpLayer tcp() { return tcp; }
    /** The periodic hooks run on this core's tick (owner thread). */
    public NetisrTickers tickers() { return tickers; }
    public IndirectionTable table() { return table; }
    public Ownership ownership() { return ownership; }
    public int cores() { return peers == null ? 1 : peers.length; }
    /** Core {@code c}'s netisr (for its identity and cross-thread entry points only). */
    public Netisr peer(int c) { return peers == null ? this : peers[c]; }

    /** The core's frame-building buffer: Ethernet header at 0, IPv4 header at {@link #TX_IP}. */
    public MemorySegment txBuffer() {
        return tx;
    }

    /** Asserts that the caller is this netisr's thread (when the ownership check is enabled). */
    public void checkOwner() {
        ownership.check();
    }

    @Override
    public boolean ipSend(MemorySegment s, long off, int payloadLen, int protocol, int src, int dst, boolean dontFragment) {
        return ip.send(s, off, payloadLen, protocol, src, dst, dontFragment);
    }

    // ------------------------------------------------------------------ StreamOwner (any thread)

    @Override
    public boolean postDoorbell(int id) {
        int index = appRing.ring().tryClaim(TcpDoorbellMsg.TYPE, TcpDoorbellMsg.LENGTH);
        if (index < 0) {
            return false;
        }
        TcpDoorbellMsg.write(appRing.segment(), index, id);
        appRing.ring().commit(index);
        wake();
        return true;
    }

    @Override
    public boolean releaseLater(TcpStream stream) {
        return submit(n -> n.tcp().releaseStream(stream));
    }

    // ------------------------------------------------------------------ Transports (IP's upcalls)

    @Override
    public void tcpInput(MemorySegment s, long off, int len, boolean broadcast, boolean csumValid) {
        tcp.input(s, off, len, broadcast, csumValid);
    }

    @Override
    public void udpInput(MemorySegment s, long off, int len, boolean broadcast, boolean csumValid) {
        udp.input(s, off, len, broadcast, csumValid);
    }

    @Override
    public void tcpIcmpError(int localAddr, int remoteAddr, int remotePort, int localPort, int seq, int type, int code,
                             int mtu) {
        tcp.icmpError(localAddr, remoteAddr, remotePort, localPort, seq, type, code, mtu);
    }

    @Override
    public void udpIcmpError(int localPort, int remoteAddr, int remotePort, int type, int code) {
        udp.icmpError(localPort, remoteAddr, remotePort, type, code);
    }

    // ------------------------------------------------------------------ Agent

    @Override
    public void onStart() {
        ownership.claim();
        if (config.pinThreads) {
            Affinity.pinCurrentThread(core % ProcessCpus.COUNT);
        }
        now = config.clock.nanoTime();
        nextTick = now + TICK_NANOS;
        if (core == 0) {
            for (ArpLayer a : arps) {
                a.announce(); // RFC 5227 section 2.3: announce our address on start
            }
        }
    }

    @Override
    public int doWork() {
        return doWork(config.clock.nanoTime());
    }

    /** {@link #poll} at {@code nowNanos} that never throws: the pass of a {@link NetisrThread}, whose clock reading it is. */
    int doWork(long nowNanos) {
        try {
            return poll(nowNanos);
        } catch (Throwable t) {
            // Never let a bug (or an Error such as a refused native allocation) end the netisr:
            // its flows would hang. Counted; tests assert the counter stays 0.
            internalError(t);
            return 1;
        }
    }

    private int internalErrorsLogged;

    /** Counts (and logs the first few of) an unexpected exception in protocol code. */
    public void internalError(Throwable t) {
        counters.inc(Stat.INTERNAL_ERROR);
        if (internalErrorsLogged < 10) {
            internalErrorsLogged++;
            LOG.log(System.Logger.Level.ERROR,
                    "flowstack: netisr-" + core + " internal error: " + t, t);
        }
    }

    /**
     * One pass over every input (NIC, other cores, applications, commands, timers) at time
     * {@code nowNanos}. Tests call this directly with a fake clock.
     */
    public int poll(long nowNanos) {
        ownership.check();
        this.now = nowNanos;
        int work = 0;
        if (!rxHeld && moves.mayReadNic() && nicReads.readNow(now)) {
            int frames = nics.receive(rxBatch, rxInput);
            nicReads.afterRead(frames);
            work += frames;
        }
        for (int s = 0; s < inbox.length; s++) {
            if (inbox[s] != null) {
                work += inbox[s].ring().read(inboxHandlers[s], READ_LIMIT);
            }
        }
        work += appRing.ring().read(appHandler, READ_LIMIT);
        NetisrCommand c;
        int cmds = 0;
        while (cmds < 16 && (c = commands.poll()) != null) {
            c.execute(this);
            cmds++;
        }
        work += cmds;
        moves.flushDeferred();
        arpUpdates.retry();
        tcp.rollup(); // DragonFly's rollup: TCP output once per batch
        work += tcp.pollTimers(now);
        if (now - nextTick >= 0) {
            nextTick = now + TICK_NANOS;
            for (ArpLayer a : arps) {
                a.tick(now);
            }
            ip.tick(now);
            tcp.tick(now);
            tickers.run(now);
        }
        flushWakeups();
        if (nicReads.armWithWrites()) {
            nics.armRxSignals(); // the next idle spell's signals, in the call that writes this pass's frames
        }
        nics.flush(); // frames a queue batched go out before the pass ends (NicQueue#flush)
        return work;
    }

    @Override
    public void onClose() {
        running = false;
    }

    /** Frees the core's off-heap memory; call after its thread has stopped. */
    public void release() {
        tcp.release();
        wakeFd.close();
        arena.close();
    }

    @Override
    public String roleName() {
        return "netisr-" + core;
    }

    // ------------------------------------------------------------------ input

    /** Ethernet input for a frame read from this core's queue of interface {@code ifIndex} ({@link EthernetInput}). */
    void inputFrame(int ifIndex, MemorySegment s, long off, int len, int rxFlags, int gsoSize) {
        ethernet.input(ifIndex, s, off, len, rxFlags, gsoSize);
    }

    /**
     * A reassembled datagram ({@code s[off, off + len)}, Ethernet header space first) goes to
     * the core its 4-tuple hashes to (DESIGN.md: reassembled on the (src, dst) core,
     * re-dispatched by 4-tuple).
     */
    public void dispatchDatagram(MemorySegment s, long off, int len) {
        dispatch(core, DatagramMsg.TYPE, s, off, len);
    }

    /** A validated frame or datagram read from this core's own queue: to its owner ({@link #dispatch}). */
    void dispatchLocal(int type, MemorySegment s, long off, int len) {
        dispatch(core, type, s, off, len);
    }

    /**
     * Processes a validated IPv4 frame or datagram here if this core owns its bucket, else sends
     * it to the owner this core's replica names. {@code source} is the core whose NIC queue read
     * it (this core for its own queue, the sender for a ring message): while a bucket that moved
     * here waits for {@code source}'s mark, its frames from {@code source} are held, so they
     * cannot overtake the ones that source sent the old owner before it learnt of the move.
     */
    private void dispatch(int source, int type, MemorySegment s, long off, int len) {
        // a DatagramMsg has its datagram where an Ipv4FrameMsg has it
        IndirectionTable t = table;
        int hash = t.hash().ofIpv4(s, off + Ipv4FrameMsg.IP, Ipv4FrameMsg.ipLength(len));
        int owner = t.core(hash);
        if (owner != core) {
            hop(owner, type, s, off, len); // not ours, or moved away since the sender looked
            return;
        }
        int bucket = t.bucket(hash);
        if (moves.holds(bucket, source)) {
            moves.hold(bucket, source, type, s, off, len);
            return;
        }
        process(bucket, type, s, off, len);
    }

    /** Runs the IP layer for a frame of a bucket this core owns. */
    void process(int bucket, int type, MemorySegment s, long off, int len) {
        bucketPackets[bucket]++;
        if (type == DatagramMsg.TYPE) {
            ip.deliver(s, off + DatagramMsg.IP, DatagramMsg.ipLength(len), false, false);
        } else {
            ip.input(s, off + Ipv4FrameMsg.IP, Ipv4FrameMsg.ipLength(len),
                    Ethernet.dst(s, off + Ipv4FrameMsg.ETHERNET) == Ethernet.BROADCAST,
                    type == Ipv4FrameMsg.TYPE_CSUM_VALID);
        }
    }

    private void onInterCore(int sender, int type, MemorySegment seg, int index, int length) {
        switch (type) {
            case Ipv4FrameMsg.TYPE, Ipv4FrameMsg.TYPE_CSUM_VALID, DatagramMsg.TYPE -> {
                counters.inc(Stat.HOP_IN);
                dispatch(sender, type, seg, index, length);
            }
            case ArpUpdateMsg.TYPE -> {
                counters.inc(Stat.HOP_IN);
                arps[ArpUpdateMsg.iface(seg, index)].applyUpdate(ArpUpdateMsg.ip(seg, index), ArpUpdateMsg.mac(seg, index));
            }
            case MigrateAdoptMsg.TYPE -> moves.adopt(MigrateAdoptMsg.bucket(seg, index),
                    MigrateAdoptMsg.from(seg, index), peers[sender].migrationOut[core].poll());
            case MigrateViewMsg.TYPE -> moves.view(MigrateViewMsg.bucket(seg, index),
                    MigrateViewMsg.newOwner(seg, index), MigrateViewMsg.oldOwner(seg, index));
            case MigrateMarkMsg.TYPE -> moves.mark(MigrateMarkMsg.bucket(seg, index),
                    MigrateMarkMsg.source(seg, index), MigrateMarkMsg.newOwner(seg, index));
            case MigrateMarkFwdMsg.TYPE -> moves.markForwarded(MigrateMarkFwdMsg.bucket(seg, index),
                    MigrateMarkFwdMsg.source(seg, index));
            case TcpDoorbellFwdMsg.TYPE -> tcp.doorbell(TcpDoorbellFwdMsg.id(seg, index));
            case TimeWaitMsg.TYPE -> tcp.immigrateTimeWait(seg, index);
            default -> throw new IllegalStateException("unknown inter-core message " + type);
        }
    }

    // ------------------------------------------------------------------ rebalancing (docs/REBALANCING.md)

    /**
     * Moves bucket {@code bucket} of the indirection table from this core to {@code target},
     * with the connections it holds. Runs on this netisr (a command); {@code done} gets null on
     * the new owner once every frame that was on its way through another core has arrived, or a
     * reason here if the move is refused (not this core's bucket, still settling, rings full).
     */
    public void moveBucket(int bucket, int target, java.util.function.Consumer<String> done) {
        ownership.check();
        moves.moveOut(bucket, target, done);
    }

    /** Sends a doorbell for connection {@code id}, which moved, to its new owner (never dropped). */
    public void forwardDoorbell(int target, int id) {
        ownership.check();
        moves.send(target, TcpDoorbellFwdMsg.TYPE, id, 0, 0);
    }

    /** Installs a new replica of the indirection table (this netisr only: the migration protocol). */
    void installTable(IndirectionTable t) {
        ownership.check();
        this.table = t;
    }

    /** The (this core, target) migration queue; its producer is this netisr. */
    OneToOneConcurrentArrayQueue<Migration> migrationOut(int target) {
        return migrationOut[target];
    }

    /** Holds receive: no NIC is read until {@link #openReceive} (before the thread starts). */
    public void holdReceive() { rxHeld = true; }

    /** Opens receive (owner thread): what a held NIC queued is read on the next pass. */
    public void openReceive() { ownership.check(); rxHeld = false; nicReads.due(); }

    /** {@return ARP updates waiting for core {@code target}'s ring (owner thread; tests)} */
    int arpUpdatesWaiting(int target) { return arpUpdates.waiting(target); }

    /** The ring towards {@code target} (this netisr is its producer). */
    Rings.Ring<OneToOneRingBuffer> outbox(int target) {
        return outbox[target];
    }

    /**
     * Owes core {@code target} a wake-up, signalled at the end of this pass ({@link #flushWakeups}).
     * Call before committing the message it is for: the target, finding the message when its
     * sleep times out, then also finds the wake-up owed ({@link #wakeOwed}) and does not count
     * a lost one.
     */
    void wakeLater(int target) {
        WAKE_PENDING.setOpaque(wakePending, target, true); // ordered before the commit by its release
        anyWakePending = true;
    }

    /** Whether this netisr owes core {@code target} a wake-up it has not signalled yet (any thread). */
    boolean wakeOwed(int target) {
        return (boolean) WAKE_PENDING.getAcquire(wakePending, target);
    }

    private static final VarHandle WAKE_PENDING = java.lang.invoke.MethodHandles.arrayElementVarHandle(boolean[].class);

    /** Frames of bucket {@code bucket} this core processed (any thread; opaque read). */
    public long bucketPackets(int bucket) {
        return (long) BUCKET_LONGS.getOpaque(bucketPackets, bucket);
    }

    /** Whether a bucket that moved here still waits for marks (held frames, a move not complete). */
    public int bucketsSettling() {
        ownership.check();
        return moves.settling();
    }

    private static final VarHandle BUCKET_LONGS = java.lang.invoke.MethodHandles.arrayElementVarHandle(long[].class);

    private void onAppMessage(int type, MemorySegment seg, int index, int length) {
        if (type == UdpSendMsg.TYPE) {
            udp.sendFromApp(seg, index, length);
        } else if (type == TcpDoorbellMsg.TYPE) {
            tcp.doorbell(TcpDoorbellMsg.id(seg, index));
        }
    }

    // ------------------------------------------------------------------ output and messaging

    /**
     * Transmits a frame on this core's own TX queue of interface {@code ifIndex}, padding it to
     * the Ethernet minimum. The buffer must have room for the padding.
     */
    public void transmit(int ifIndex, MemorySegment s, long off, int len) {
        ownership.check(); // this core's TX queue has one producer: this netisr
        if (len < Ethernet.MIN_FRAME) {
            for (long p = off + len; p < off + Ethernet.MIN_FRAME; p++) {
                s.set(java.lang.foreign.ValueLayout.JAVA_BYTE, p, (byte) 0);
            }
            len = Ethernet.MIN_FRAME;
        }
        nics.transmit(ifIndex, s, off, len);
    }

    @Override
    public int txOffloads() {
        return nics.txOffloads();
    }

    @Override
    public int txOffloads(int ifIndex) {
        return nics.txOffloads(ifIndex);
    }

    @Override
    public TxFrame txFrame() {
        return txFrame;
    }

    @Override
    public boolean ipSendFrame(TxFrame frame, int protocol, int src, int dst) {
        return ip.sendFrame(frame, protocol, src, dst);
    }

    @Override
    public int sourceAddress(int dst) {
        return ip.sourceAddress(dst);
    }

    /** Transmits a gathered frame on this core's own TX queue of interface {@code ifIndex} (never below the Ethernet minimum). */
    @Override
    public void transmit(int ifIndex, TxFrame frame) {
        ownership.check(); // this core's TX queue has one producer: this netisr
        nics.transmit(ifIndex, frame);
    }

    /** Copies {@code s[off, off+len)} into the ring towards {@code target} as one message. */
    public boolean hop(int target, int type, MemorySegment s, long off, int len) {
        ownership.check(); // the outbox rings are SPSC: their one producer is this netisr
        Rings.Ring<OneToOneRingBuffer> r = outbox[target];
        int index = r.ring().tryClaim(type, len);
        if (index < 0) {
            counters.inc(Stat.HOP_RING_FULL);
            return false;
        }
        MemorySegment.copy(s, off, r.segment(), index, len);
        wakeLater(target); // before the commit: the target must never see the message and no wake owed
        r.ring().commit(index);
        counters.inc(Stat.HOP_OUT);
        return true;
    }

    @Override
    public void unresolved(MemorySegment frame, long off, int len) {
        if (forwarder != null) {
            forwarder.unresolved(frame, off, len);
        }
    }

    /** Sends an ARP cache update of interface {@code ifIndex} to every other core (replicas are updated by message; {@link ArpUpdates}). */
    public void broadcastArpUpdate(int ifIndex, int ipAddr, long mac) {
        ownership.check();
        arpUpdates.broadcast(ifIndex, ipAddr, mac);
    }

    private void flushWakeups() {
        if (!anyWakePending) {
            return; // most passes: nothing sent to another core
        }
        anyWakePending = false;
        VarHandle.fullFence(); // order the ring commits before reading the peers' sleeping flags
        for (int t = 0; t < wakePending.length; t++) {
            if (wakePending[t]) {
                peers[t].signalIfWaiting();
                WAKE_PENDING.setRelease(wakePending, t, false); // after the signal: see wakeOwed
            }
        }
    }

    // ------------------------------------------------------------------ cross-thread entry points

    /** Queues a control command for this netisr (any thread). */
    public boolean submit(NetisrCommand command) {
        if (!commands.offer(command)) {
            return false;
        }
        wake();
        return true;
    }

    /** The application ring (many producers: application threads; one consumer: this core). */
    public ManyToOneRingBuffer appRing() { return appRing.ring(); }

    public MemorySegment appRingSegment() { return appRing.segment(); }

    /** Wakes this netisr if it sleeps in poll(); any thread, after publishing work for it. */
    public void wake() {
        VarHandle.fullFence();
        signalIfWaiting();
    }

    /** Signals the eventfd if this netisr sleeps or watches for a late signal ({@link #endSleep}); after the caller's fence. */
    private void signalIfWaiting() {
        if (sleeping || lateWatch) {
            wakeFd.signal();
        }
    }

    public boolean sleeping() { return sleeping; }
    public boolean running() { return running; }

    // ------------------------------------------------------------------ idle

    /** Whether an inbox ring holds messages; with {@code signalledOnly}, only rings whose producer owes no wake-up. */
    private boolean inboxWaiting(boolean signalledOnly) {
        for (int s = 0; s < inbox.length; s++) {
            Rings.Ring<OneToOneRingBuffer> r = inbox[s];
            if (r != null && r.ring().size() > 0 && !(signalledOnly && peers[s].wakeOwed(core))) {
                return true;
            }
        }
        return false;
    }

    private boolean hasPendingWork() {
        return inboxWaiting(false) || appRing.ring().size() > 0 || !commands.isEmpty() || moves.hasDeferred()
                || (nics.rxReady() && !rxStopped()); // a paused NIC waits for a ring's mark
    }

    /**
     * Work a producer must signal this netisr for when it sleeps: messages from other cores or
     * applications, commands, frames of a queue with no descriptor or deadline (its notifier wakes).
     * An inbox ring whose producer still owes this core its wake-up ({@link #wakeOwed}) does not count.
     */
    private int signalledWork() { // bits: 1 inbox, 2 application ring, 4 commands, 8 NIC queue
        return (inboxWaiting(true) ? 1 : 0) | (appRing.ring().size() > 0 ? 2 : 0) | (!commands.isEmpty() ? 4 : 0)
                | (nics.rxReadySignalled() && !rxStopped() ? 8 : 0);
    }

    /** How long a sleep that timed out with signalled work waiting gives its producer to signal ({@link #endSleep}). */
    private static final long LATE_VERDICT_NANOS = 1_000_000_000L;
    private long lateSince; // owner thread: when the watch for a late signal began
    private int lateWork; // owner thread: what was waiting then ({@link #signalledWork} bits)

    /**
     * Its thread starts ({@code true}) or stops spinning; the pass that found nothing has just read
     * the NICs. While it spins, a NIC queue whose receive is a system call is read only when due
     * ({@link IdleNicReads}: its arrival signal, armed here, or a timer). Owner thread.
     *
     * @param on whether the netisr spins
     */
    public void idleSpin(boolean on) {
        nicReads.spin(on, now, !rxHeld);
    }

    /** {@return the poll slots a sleep of this netisr takes at most: its eventfd and one per NIC queue} */
    int pollSlots() { return poller.maxFds(); }

    /**
     * First step of a sleep (by a {@link NetisrThread}): publishes {@code sleeping}, then looks for
     * work published before that (a producer publishes, then reads {@code sleeping}).
     * {@return true to go on sleeping, false if work is waiting (awake again)}
     */
    boolean prepareSleep() {
        sleeping = true;
        VarHandle.fullFence();
        if (hasPendingWork()) {
            cancelSleep();
            return false;
        }
        return true;
    }

    /** Ends a sleep {@link #prepareSleep} began, before the poll: a netisr on the same thread has work. */
    void cancelSleep() {
        sleeping = false;
        nicReads.due();
    }

    /** {@return when this netisr must run again at the latest: its next tick, or a queue's deadline} */
    long sleepDeadline() { return Math.min(nextTick, nics.wakeDeadline()); }

    /** Second step: the wake eventfd and the queues' descriptors (unless receive is paused) into {@code p} from {@code first}; the slots used. */
    int pollFds(Poller p, int first) {
        p.set(first, wakeFd.fd(), Poller.POLLIN);
        return 1 + (rxStopped() ? 0 : nics.addPollFds(p, first + 1));
    }

    /** {@return whether no NIC is read now: receive held, or paused for a bucket move's marks} */
    private boolean rxStopped() { return rxHeld || moves.rxPaused(); }

    /**
     * Last step, after the poll ({@code ready}: what it returned, 0 if it timed out; {@code now}:
     * the clock after it): the NICs are read next pass if one has frames, has no descriptor, or its
     * deadline came. A timed-out poll with signalled work waiting ({@link #signalledWork}) takes it;
     * a producer preempted between publishing and signalling has not signalled yet, so {@code lateWatch}
     * has producers signal until a signal comes; none within {@value #LATE_VERDICT_NANOS} ns is a lost
     * wake-up ({@link Stat#WAKEUP_LATE}). {@return true if a descriptor ended the sleep, or work waited}
     */
    boolean endSleep(Poller p, int first, int ready, long now) {
        boolean paused = rxStopped();
        boolean nicReady = ready > 0 && !paused && nics.anyPolledReady(p, first + 1);
        boolean signalled = ready > 0 && p.revents(first) != 0;
        nicReads.afterSleep(paused || nics.anyWithoutFd() || nicReady || nics.wakeDeadline() - now <= 0, now);
        boolean woke = signalled || nicReady;
        int waiting = ready == 0 && !lateWatch ? signalledWork() : 0;
        if (waiting != 0) {
            lateWatch = true; // before sleeping = false: a producer that sees the one sees the other
            lateSince = now;
            lateWork = waiting;
            woke = true;
        }
        sleeping = false;
        if (signalled) {
            wakeFd.drain();
            lateWatch = false;
        } else if (lateWatch && now - lateSince >= LATE_VERDICT_NANOS) {
            lateWatch = false;
            counters.inc(Stat.WAKEUP_LATE);
            LOG.log(System.Logger.Level.WARNING, "netisr-" + core + ": a sleep timed out with work waiting (bits "
                    + lateWork + ": 1 inbox, 2 application ring, 4 commands, 8 NIC) and no wake-up came in 1 s");
        }
        return woke;
    }
}
