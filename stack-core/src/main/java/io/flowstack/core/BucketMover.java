package io.flowstack.core;

import io.flowstack.core.flow.IndirectionTable;
import io.flowstack.core.socket.StackException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@link FlowStack#moveBucket}'s wait: checks the request, starts the move
 * ({@link FlowStack#moveBucketAsync}) and waits up to 5 s for the new owner to report it complete.
 *
 * <p>Stateless; called by the one thread that holds the stack's move lock.
 */
final class BucketMover {
    private BucketMover() {}

    static int moveAndWait(FlowStack stack, int bucket, int target) {
        IndirectionTable t = stack.table();
        if (bucket < 0 || bucket >= t.size()) {
            throw new IllegalArgumentException("bucket must be 0.." + (t.size() - 1) + ", got " + bucket);
        }
        if (target < 0 || target >= stack.cores()) {
            throw new IllegalArgumentException("core must be 0.." + (stack.cores() - 1) + ", got " + target);
        }
        int from = t.owner(bucket);
        if (from == target) {
            return from;
        }
        CompletableFuture<String> f = new CompletableFuture<>();
        stack.moveBucketAsync(bucket, target, error -> f.complete(error == null ? "" : error));
        String error;
        try {
            error = f.get(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StackException("interrupted while moving bucket " + bucket, e);
        } catch (ExecutionException | TimeoutException e) {
            throw new StackException("moving bucket " + bucket + " from core " + from + " to core " + target
                    + " did not finish within 5 s");
        }
        if (!error.isEmpty()) {
            throw new StackException("moving bucket " + bucket + ": " + error);
        }
        return from;
    }
}
