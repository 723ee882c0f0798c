package io.flowstack.core.netisr;

import io.flowstack.core.tcp.Tcb;
import java.util.List;
import java.util.function.Consumer;

/**
 * One bucket's move from core {@code from} to core {@code to}: the control blocks that leave the
 * old owner, handed over through the (from, to) migration queue right before the
 * {@link io.flowstack.core.wire.msg.MigrateAdoptMsg} ring message that announces them (docs/REBALANCING.md).
 *
 * <p>Owned by: the old owner's netisr until it is offered to the queue, then the new owner's.
 * {@code done} runs once on the new owner when the move is complete (null), or on the old owner
 * when it was refused (the reason).
 */
record Migration(int bucket, int from, int to, List<Tcb> connections, Consumer<String> done) {
}
