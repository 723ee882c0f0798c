package io.flowstack.tools;

import io.flowstack.nic.xdp.XdpProgram;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code --xdp-mode auto|driver|generic}, as a picocli {@code @Mixin} for the commands that can
 * open an interface through AF_XDP (endpoint {@code --xdp}, router {@code --if xdp:}): where the
 * XDP program runs (docs/AF_XDP.md).
 *
 * <p>Owned by: the command that parses it (immutable after parsing).
 */
public final class XdpModeOption {
    @Option(names = "--xdp-mode", paramLabel = "MODE", converter = Converter.class,
            description = "With AF_XDP interfaces: where the XDP program runs: auto (default: the driver's hook if it "
                    + "has one, else generic), driver (fail if the driver has none) or generic (the skb hook every "
                    + "device has).")
    XdpProgram.Mode mode;

    /**
     * The mode asked for.
     *
     * @return null for auto
     */
    public XdpProgram.Mode mode() {
        return mode;
    }

    /** {@code auto} (null), {@code driver}, {@code generic}; any case. */
    static final class Converter implements ITypeConverter<XdpProgram.Mode> {
        @Override
        public XdpProgram.Mode convert(String value) {
            return switch (value.strip().toLowerCase(Locale.ROOT)) {
                case "auto" -> null;
                case "driver", "drv", "native" -> XdpProgram.Mode.DRIVER;
                case "generic", "skb" -> XdpProgram.Mode.GENERIC;
                default -> throw new TypeConversionException("'" + value + "': the XDP mode is auto, driver or generic");
            };
        }
    }
}
