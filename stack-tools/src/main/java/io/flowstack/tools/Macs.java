package io.flowstack.tools;

import io.flowstack.core.wire.Ethernet;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** MAC addresses on the command line: parsing {@code --mac} and the default derived from the address. */
public final class Macs {
    private static final Pattern MAC = Pattern.compile("\\p{XDigit}{1,2}([:-]\\p{XDigit}{1,2}){5}");

    private Macs() {
    }

    /**
     * A locally administered unicast MAC made from an IPv4 address: {@code 02:00} followed by the
     * address's four octets, e.g. 198.18.0.2 gives {@code 02:00:c6:12:00:02}. Two endpoints with
     * different addresses thus get different MACs, and the MAC tells which address it belongs to.
     */
    public static long fromAddress(int address) {
        return 0x02_00_00_00_00_00L | (address & 0xFFFF_FFFFL);
    }

    /** Parses {@code aa:bb:cc:dd:ee:ff} (or with dashes); must be a unicast MAC, not all zeros. */
    public static long parse(String text) {
        String t = text.strip();
        if (!MAC.matcher(t).matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a MAC address (write six hex octets, e.g. 02:00:c6:12:00:02)");
        }
        long mac = Ethernet.parseMac(t);
        if (Ethernet.isGroup(mac)) {
            throw new IllegalArgumentException("'" + text + "' is a multicast MAC (the first octet is odd): "
                    + "use a unicast one, e.g. 02:00:c6:12:00:02");
        }
        if (mac == 0) {
            throw new IllegalArgumentException("'" + text + "': the all-zero MAC is not a valid address");
        }
        return mac;
    }

    /** picocli converter for {@code --mac}. */
    public static final class Converter implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            try {
                return parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
