package io.flowstack.tools.bench;

import io.flowstack.core.FlowStack;
import java.util.Objects;

/**
 * Where a bench end runs: on the kernel's sockets, or on a {@link FlowStack} through its
 * callback API (the default: handlers on the netisr that owns each connection) or its blocking
 * API (a thread per connection, as an application on {@code TcpConnection} would do).
 */
public sealed interface Net permits Net.Kernel, Net.Stack {
    /** "kernel" or "stack". */
    String name();

    /** "sockets" (kernel), "callback" or "blocking" (stack). */
    String api();

    /** The kernel's TCP through java.nio sockets; {@code bind} is the local address to listen on (null: all). */
    record Kernel(String bind) implements Net {
        @Override
        public String name() {
            return "kernel";
        }

        @Override
        public String api() {
            return "sockets";
        }
    }

    /** A running stack; {@code blocking} selects the blocking socket API instead of callbacks. */
    record Stack(FlowStack stack, boolean blocking) implements Net {
        public Stack {
            Objects.requireNonNull(stack, "stack");
        }

        @Override
        public String name() {
            return "stack";
        }

        @Override
        public String api() {
            return blocking ? "blocking" : "callback";
        }
    }

    static Net kernel() {
        return new Kernel(null);
    }

    static Net stack(FlowStack stack) {
        return new Stack(stack, false);
    }

    static Net stackBlocking(FlowStack stack) {
        return new Stack(stack, true);
    }
}
