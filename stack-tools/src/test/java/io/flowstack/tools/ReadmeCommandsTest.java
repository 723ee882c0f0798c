package io.flowstack.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Issue 5 point 7: every {@code ./stack} command the README shows, in its code blocks and in
 * inline code, parses and passes its command's checks, as a newcomer would paste it (synopsis
 * lines with {@code [optional]} parts are not commands; {@code ./stack test} is the launcher's).
 * That the two commands at the top work is shown by {@code DemoKernelTest} and by CI itself.
 */
class ReadmeCommandsTest {
    private static final Pattern INLINE = Pattern.compile("`((?:sudo )?\\./stack [^`]+)`");

    static List<String> readmeCommands() throws IOException {
        List<String> lines = Files.readAllLines(Path.of("../README.md"));
        List<String> commands = new ArrayList<>();
        boolean inBlock = false;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.startsWith("```")) {
                inBlock = !inBlock;
                continue;
            }
            if (inBlock) {
                while (line.endsWith("\\") && i + 1 < lines.size()) {
                    line = line.substring(0, line.length() - 1) + " " + lines.get(++i).strip();
                }
                if (line.contains("./stack ") && !line.strip().startsWith("#") && !line.contains("[")) {
                    commands.add(line.strip());
                }
            } else {
                Matcher m = INLINE.matcher(line);
                while (m.find()) {
                    // a bare `./stack NAME` in prose or a heading names the command, it is no command line
                    if (!m.group(1).contains("[") && !m.group(1).matches("(sudo )?\\./stack [a-z]+")) {
                        commands.add(m.group(1));
                    }
                }
            }
        }
        return commands;
    }

    /**
     * Issue 2 point 2 / issue 5 point 7: the README's first lines give exactly two commands, the
     * main job and all the tests, in its first code block, before any other text of substance.
     */
    @Test
    void theFirstLinesGiveExactlyTheTwoCommands() throws IOException {
        List<String> lines = Files.readAllLines(Path.of("../README.md"));
        int open = lines.indexOf("```sh");
        assertTrue(open >= 0 && open < 8, "a shell block within the first lines: " + lines.subList(0, 8));
        int close = lines.subList(open + 1, lines.size()).indexOf("```") + open + 1;
        assertEquals(List.of("./stack demo", "./stack test"), lines.subList(open + 1, close));
    }

    @Test
    void everyStackCommandInTheReadmeParses() throws IOException {
        List<String> all = readmeCommands();
        int checked = 0;
        for (String line : all) {
            // the part from ./stack on, cut where the shell would end the command
            List<String> one = HelpAndUsageErrorsTest.examples("\nExamples:\n  " + line + "\n");
            for (String cmd : one) {
                if (cmd.equals("test") || cmd.startsWith("test ")) {
                    continue; // handled by the launcher (mvn), not by the Java command line
                }
                HelpAndUsageErrorsTest.assertExampleParses(cmd);
                checked++;
            }
        }
        int n = checked;
        assertTrue(n >= 12, () -> "only " + n + " README commands found: " + all);
    }
}
