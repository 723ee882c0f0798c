package io.flowstack.tools.bench;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * One client run of {@code bench --compare}, the same against the stack and the kernel: its key
 * for {@code --modes} and the JSON, its label in the table, the client's options and the unit of
 * its figure.
 */
public enum CompareMode {
    /** One stream, client to server. */
    STREAM_1("stream-1", "stream 1, client -> server", Unit.BITS, "-P", "1"),
    /** Four streams, client to server. */
    STREAM_4("stream-4", "stream 4, client -> server", Unit.BITS, "-P", "4"),
    /** One stream, server to client. */
    REVERSE_1("reverse-1", "stream 1, server -> client", Unit.BITS, "--reverse", "-P", "1"),
    /** Four streams, server to client. */
    REVERSE_4("reverse-4", "stream 4, server -> client", Unit.BITS, "--reverse", "-P", "4"),
    /** Request/response of one byte each way on one connection. */
    RR_1("rr-1", "rr 1 B / 1 B", Unit.TRANSACTIONS, "--rr", "1"),
    /** Request/response of 64 bytes, response 16 KiB, on one connection. */
    RR_64_16K("rr-64-16k", "rr 64 B / 16 KiB", Unit.TRANSACTIONS, "--rr", "64:16Ki"),
    /** Connect, one byte each way, close; one loop. */
    CRR("crr", "crr 1 B / 1 B", Unit.CONNECTIONS, "--crr");

    /** What a figure counts. */
    public enum Unit {
        /** Bits per second (stream). */
        BITS("bit/s", "bits_per_second"),
        /** Transactions per second (rr). */
        TRANSACTIONS("trans/s", "transactions_per_second"),
        /** Connections per second (crr). */
        CONNECTIONS("conn/s", "connections_per_second");

        private final String label;
        private final String jsonField;

        Unit(String label, String jsonField) {
            this.label = label;
            this.jsonField = jsonField;
        }

        /** "bit/s", "trans/s", "conn/s". */
        public String label() {
            return label;
        }

        /** The field of the bench client's JSON that holds the figure. */
        public String jsonField() {
            return jsonField;
        }
    }

    private final String key;
    private final String label;
    private final Unit unit;
    private final List<String> clientArgs;

    CompareMode(String key, String label, Unit unit, String... clientArgs) {
        this.key = key;
        this.label = label;
        this.unit = unit;
        this.clientArgs = List.of(clientArgs);
    }

    /** The name in {@code --modes} and the JSON, e.g. {@code rr-64-16k}. */
    public String key() {
        return key;
    }

    /** The row's name in the table, e.g. "rr 64 B / 16 KiB". */
    public String label() {
        return label;
    }

    /** What the figure counts. */
    public Unit unit() {
        return unit;
    }

    /** The bench client's options for this mode (after {@code --client HOST --kernel}). */
    public List<String> clientArgs() {
        return clientArgs;
    }

    /** Every key, for messages and the help. */
    public static String keys() {
        List<String> k = new ArrayList<>();
        for (CompareMode m : values()) {
            k.add(m.key);
        }
        return String.join(",", k);
    }

    /**
     * The modes of a comma-separated list of keys, in the table's order (duplicates once);
     * IllegalArgumentException naming the unknown key and the known ones.
     */
    public static List<CompareMode> parse(String list) {
        Set<CompareMode> chosen = new LinkedHashSet<>();
        for (String part : list.split(",", -1)) {
            String p = part.strip().toLowerCase(Locale.ROOT);
            CompareMode found = null;
            for (CompareMode m : values()) {
                if (m.key.equals(p)) {
                    found = m;
                }
            }
            if (found == null) {
                throw new IllegalArgumentException("--modes: '" + part.strip() + "' is not a mode: use some of "
                        + keys());
            }
            chosen.add(found);
        }
        List<CompareMode> ordered = new ArrayList<>();
        for (CompareMode m : values()) {
            if (chosen.contains(m)) {
                ordered.add(m);
            }
        }
        return ordered;
    }
}
