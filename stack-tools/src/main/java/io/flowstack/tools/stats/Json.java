package io.flowstack.tools.stats;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * A minimal streaming JSON writer (RFC 8259) producing one compact line: objects, arrays,
 * strings, integers, decimals, booleans and null. Misuse (a value where a name is due, an
 * unbalanced end) throws {@link IllegalStateException}.
 *
 * <p>Owned by: the thread that creates it (not thread-safe).
 */
public final class Json {
    private final StringBuilder b = new StringBuilder(4096);
    /** Per open container: true for an object; the element count is kept in {@link #counts}. */
    private final Deque<Boolean> objects = new ArrayDeque<>();
    private final Deque<Integer> counts = new ArrayDeque<>();
    private boolean nameWritten;

    public Json beginObject() {
        beforeValue();
        b.append('{');
        objects.push(true);
        counts.push(0);
        return this;
    }

    public Json endObject() {
        if (objects.isEmpty() || !objects.peek() || nameWritten) {
            throw new IllegalStateException("endObject outside an object or after a name");
        }
        objects.pop();
        counts.pop();
        b.append('}');
        return this;
    }

    public Json beginArray() {
        beforeValue();
        b.append('[');
        objects.push(false);
        counts.push(0);
        return this;
    }

    public Json endArray() {
        if (objects.isEmpty() || objects.peek()) {
            throw new IllegalStateException("endArray outside an array");
        }
        objects.pop();
        counts.pop();
        b.append(']');
        return this;
    }

    /** The next member's name (inside an object). */
    public Json name(String name) {
        if (objects.isEmpty() || !objects.peek() || nameWritten) {
            throw new IllegalStateException("name '" + name + "' outside an object or after another name");
        }
        int n = counts.pop();
        if (n > 0) {
            b.append(',');
        }
        counts.push(n + 1);
        quote(name);
        b.append(':');
        nameWritten = true;
        return this;
    }

    public Json value(String s) {
        beforeValue();
        if (s == null) {
            b.append("null");
        } else {
            quote(s);
        }
        return this;
    }

    public Json value(long v) {
        beforeValue();
        b.append(v);
        return this;
    }

    /** A decimal; NaN and infinities (not JSON) are written as null. */
    public Json value(double v) {
        beforeValue();
        if (Double.isFinite(v)) {
            b.append(v);
        } else {
            b.append("null");
        }
        return this;
    }

    public Json value(boolean v) {
        beforeValue();
        b.append(v);
        return this;
    }

    public Json nullValue() {
        beforeValue();
        b.append("null");
        return this;
    }

    /** Shorthand for {@code name(n).value(v)}. */
    public Json field(String n, String v) {
        return name(n).value(v);
    }

    public Json field(String n, long v) {
        return name(n).value(v);
    }

    public Json field(String n, double v) {
        return name(n).value(v);
    }

    public Json field(String n, boolean v) {
        return name(n).value(v);
    }

    private void beforeValue() {
        if (objects.isEmpty()) {
            if (!b.isEmpty()) {
                throw new IllegalStateException("a second top-level value");
            }
            return;
        }
        if (objects.peek()) {
            if (!nameWritten) {
                throw new IllegalStateException("a value inside an object needs a name first");
            }
            nameWritten = false;
            return;
        }
        int n = counts.pop();
        if (n > 0) {
            b.append(',');
        }
        counts.push(n + 1);
    }

    private void quote(String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }

    /** The document; throws if a container is still open. */
    @Override
    public String toString() {
        if (!objects.isEmpty()) {
            throw new IllegalStateException(objects.size() + " container(s) still open");
        }
        return b.toString();
    }
}
