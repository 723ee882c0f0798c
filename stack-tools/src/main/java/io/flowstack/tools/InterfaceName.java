package io.flowstack.tools;

import io.flowstack.nativeio.Ifreq;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Interface names on the command line ({@code --tap}, {@code --packet}): checked as the kernel
 * would ({@link Ifreq#checkName}), so a bad name is a usage error before anything is opened.
 */
public final class InterfaceName {
    private InterfaceName() {
    }

    /** picocli converter: the name unchanged, or a usage error saying what a name may be. */
    public static final class Converter implements ITypeConverter<String> {
        @Override
        public String convert(String value) {
            try {
                Ifreq.checkName(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage()
                        + " (an interface name has 1-15 characters, without '/', ':' or spaces)");
            }
            return value;
        }
    }
}
