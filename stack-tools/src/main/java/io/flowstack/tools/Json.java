package io.flowstack.tools;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one JSON of the command line, for every {@code --json} ({@code stack bench},
 * {@code stack stats} and its control socket, {@code stack scale}): a writer (objects keep their
 * insertion order; one compact line) and a strict parser that scripts and tests can use to read
 * it back (objects become {@code Map<String, Object>}, arrays {@code List<Object>}, numbers
 * {@code Double} or {@code Long}, plus {@code String}, {@code Boolean} and null). Every document
 * starts with {@code "tool"} (e.g. {@code "flowstack stats"}) and {@code "format"}, the version
 * of its fields ({@link #FORMAT}).
 *
 * <p>Owned by: nobody (static methods); a {@link Obj} by the thread that builds it.
 */
public final class Json {
    /** The version of the fields of every JSON document the commands print. */
    public static final int FORMAT = 1;

    private Json() {
    }

    /** A document's first fields: {@code "tool": "flowstack <command>"} and {@code "format"}. */
    public static Obj document(String command) {
        return obj().put("tool", "flowstack " + command).put("format", FORMAT);
    }

    /** Builds one JSON object; values may be numbers, strings, booleans, null, maps, lists or {@code Json.Obj}. */
    public static final class Obj {
        private final Map<String, Object> fields = new LinkedHashMap<>();

        public Obj put(String key, Object value) {
            fields.put(key, value);
            return this;
        }

        public Map<String, Object> fields() {
            return fields;
        }

        @Override
        public String toString() {
            StringBuilder b = new StringBuilder();
            write(b, this);
            return b.toString();
        }
    }

    public static Obj obj() {
        return new Obj();
    }

    /** Serializes {@code value} compactly. */
    public static String write(Object value) {
        StringBuilder b = new StringBuilder();
        write(b, value);
        return b.toString();
    }

    private static void write(StringBuilder b, Object v) {
        if (v == null) {
            b.append("null");
        } else if (v instanceof Obj o) {
            write(b, o.fields);
        } else if (v instanceof Map<?, ?> m) {
            b.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!first) {
                    b.append(',');
                }
                first = false;
                string(b, String.valueOf(e.getKey()));
                b.append(':');
                write(b, e.getValue());
            }
            b.append('}');
        } else if (v instanceof List<?> l) {
            b.append('[');
            for (int i = 0; i < l.size(); i++) {
                if (i > 0) {
                    b.append(',');
                }
                write(b, l.get(i));
            }
            b.append(']');
        } else if (v instanceof String s) {
            string(b, s);
        } else if (v instanceof Boolean bool) {
            b.append(bool);
        } else if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                b.append("null");
            } else if (d == Math.rint(d) && Math.abs(d) < 1e15) {
                b.append((long) d);
            } else {
                b.append(new BigDecimal(d).round(new MathContext(7)).stripTrailingZeros().toPlainString());
            }
        } else if (v instanceof Number n) {
            b.append(n.longValue());
        } else {
            string(b, v.toString());
        }
    }

    private static void string(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
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

    /** Parses one JSON value (the whole text, surrounding whitespace allowed). */
    public static Object parse(String text) {
        Parser p = new Parser(text);
        p.ws();
        Object v = p.value();
        p.ws();
        if (p.i != text.length()) {
            throw p.error("trailing characters");
        }
        return v;
    }

    /** Parses a JSON object. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> parseObject(String text) {
        Object v = parse(text);
        if (!(v instanceof Map)) {
            throw new IllegalArgumentException("JSON: expected an object");
        }
        return (Map<String, Object>) v;
    }

    private static final class Parser {
        private final String s;
        private int i;

        Parser(String s) {
            this.s = s;
        }

        IllegalArgumentException error(String what) {
            return new IllegalArgumentException("JSON: " + what + " at offset " + i);
        }

        void ws() {
            while (i < s.length() && " \t\r\n".indexOf(s.charAt(i)) >= 0) {
                i++;
            }
        }

        Object value() {
            if (i >= s.length()) {
                throw error("unexpected end");
            }
            char c = s.charAt(i);
            switch (c) {
                case '{' -> {
                    return object();
                }
                case '[' -> {
                    return array();
                }
                case '"' -> {
                    return string();
                }
                case 't' -> {
                    literal("true");
                    return Boolean.TRUE;
                }
                case 'f' -> {
                    literal("false");
                    return Boolean.FALSE;
                }
                case 'n' -> {
                    literal("null");
                    return null;
                }
                default -> {
                    return number();
                }
            }
        }

        void literal(String w) {
            if (!s.startsWith(w, i)) {
                throw error("bad literal");
            }
            i += w.length();
        }

        Map<String, Object> object() {
            Map<String, Object> m = new LinkedHashMap<>();
            if (opens('}')) {
                return m;
            }
            do {
                ws();
                if (peek() != '"') {
                    throw error("expected a key");
                }
                String k = string();
                ws();
                expect(':');
                ws();
                m.put(k, value());
            } while (!closes('}'));
            return m;
        }

        List<Object> array() {
            List<Object> l = new ArrayList<>();
            if (opens(']')) {
                return l;
            }
            do {
                ws();
                l.add(value());
            } while (!closes(']'));
            return l;
        }

        /** Consumes a container's opening bracket; true if it is empty (its {@code close} consumed too). */
        boolean opens(char close) {
            i++;
            ws();
            if (peek() == close) {
                i++;
                return true;
            }
            return false;
        }

        /** After an element: true at the container's {@code close}, false at a comma (another element follows). */
        boolean closes(char close) {
            ws();
            char c = next();
            if (c == close) {
                return true;
            }
            if (c != ',') {
                throw error("expected , or " + close);
            }
            return false;
        }

        String string() {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (true) {
                char c = next();
                if (c == '"') {
                    return b.toString();
                }
                if (c < 0x20) {
                    throw error("control character in string");
                }
                if (c != '\\') {
                    b.append(c);
                    continue;
                }
                char e = next();
                switch (e) {
                    case '"', '\\', '/' -> b.append(e);
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'n' -> b.append('\n');
                    case 'r' -> b.append('\r');
                    case 't' -> b.append('\t');
                    case 'u' -> {
                        if (i + 4 > s.length()) {
                            throw error("bad escape");
                        }
                        b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        i += 4;
                    }
                    default -> throw error("bad escape");
                }
            }
        }

        Object number() {
            int start = i;
            if (peek() == '-') {
                i++;
            }
            while (i < s.length() && "0123456789+-.eE".indexOf(s.charAt(i)) >= 0) {
                i++;
            }
            String t = s.substring(start, i);
            if (t.isEmpty() || t.equals("-")) {
                throw error("unexpected character");
            }
            try {
                if (t.matches("-?\\d+")) {
                    return Long.parseLong(t);
                }
                if (!t.matches("-?\\d+(\\.\\d+)?([eE][+-]?\\d+)?")) {
                    throw error("bad number " + t);
                }
                return Double.parseDouble(t);
            } catch (NumberFormatException e) {
                throw error("bad number " + t);
            }
        }

        char peek() {
            if (i >= s.length()) {
                throw error("unexpected end");
            }
            return s.charAt(i);
        }

        char next() {
            char c = peek();
            i++;
            return c;
        }

        void expect(char c) {
            if (next() != c) {
                i--;
                throw error("expected " + c);
            }
        }
    }
}
