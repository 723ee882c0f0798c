package io.flowstack.tools;

/**
 * A command whose options are checked before it does anything: {@link #validate()} throws a
 * {@link picocli.CommandLine.ParameterException} (exit {@link Main#USAGE}, one line) for what
 * picocli's own parsing cannot see (ranges, options that need or exclude each other). It opens
 * nothing and needs no privilege, so tests call it on every example of the help.
 */
public interface ValidatedCommand {
    /** Checks the parsed options; throws ParameterException for the first problem found. */
    void validate();
}
