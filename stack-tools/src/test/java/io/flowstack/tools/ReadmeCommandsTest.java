package io.flowstack.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Issue 5 point 7: every {@code ./stack} command the README and docs/CLI.md (the per-command
 * reference) show, in their code blocks and in inline code, parses and passes its command's
 * checks, as a newcomer would paste it (synopsis lines with {@code [optional]} parts are not
 * commands; {@code ./stack test} is the launcher's). That the two commands at the top work is
 * shown by {@code DemoKernelTest} and by CI itself. Issue 9 point 6: the README's quick start
 * fits one screen, and the README links only to files of this repository.
 */
class ReadmeCommandsTest {
    private static final Pattern INLINE = Pattern.compile("`((?:sudo )?\\./stack [^`]+)`");
    /** A Markdown link's target: {@code [text](target)}. */
    private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)\\)");
    /** The README's lines before this heading are the quick start. */
    static final String AFTER_QUICK_START = "## What flowstack is";

    static List<String> readmeCommands() throws IOException {
        List<String> commands = new ArrayList<>(commands(Path.of("../README.md")));
        commands.addAll(commands(Path.of("../docs/CLI.md")));
        return commands;
    }

    static List<String> commands(Path markdown) throws IOException {
        List<String> lines = Files.readAllLines(markdown);
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
        assertTrue(commands(Path.of("../docs/CLI.md")).size() >= 12, "docs/CLI.md has the per-command examples");
    }

    /** From the top through running the demo, the tests and an endpoint: one screen. */
    @Test
    void theQuickStartFitsOneScreen() throws IOException {
        List<String> lines = Files.readAllLines(Path.of("../README.md"));
        int end = lines.indexOf(AFTER_QUICK_START);
        assertTrue(end > 0, "the README has a '" + AFTER_QUICK_START + "' section");
        String quickStart = String.join("\n", lines.subList(0, end));
        assertTrue(end <= 52, "the quick start is " + end + " lines");
        for (String needed : List.of("./stack demo", "./stack test", "./stack endpoint ", "docs/CLI.md",
                "docs/ARCHITECTURE.md")) {
            assertTrue(quickStart.contains(needed), needed + " in the quick start");
        }
    }

    /**
     * The README (and the docs next to it) link only to files of this repository that exist, never
     * outside it ({@code ../} from the README), and every {@code #anchor} names a heading there.
     */
    @Test
    void linksPointToFilesOfThisRepository() throws IOException {
        Path repo = Path.of("..").toAbsolutePath().normalize();
        List<Path> pages = new ArrayList<>(List.of(repo.resolve("README.md")));
        try (var docs = Files.list(repo.resolve("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        assertTrue(!Files.readString(pages.get(0)).contains("../"), "the README names nothing outside the repository");
        int links = 0;
        for (Path page : pages) {
            String text = Files.readString(page);
            Matcher m = LINK.matcher(text);
            while (m.find()) {
                String target = m.group(1);
                if (target.matches("[a-z]+:.*")) {
                    continue; // http(s): an outside page, not a file
                }
                links++;
                if (page.getFileName().toString().equals("README.md")) {
                    assertTrue(!target.startsWith("../"), "README links outside the repository: " + target);
                }
                int hash = target.indexOf('#');
                String file = hash < 0 ? target : target.substring(0, hash);
                Path linked = file.isEmpty() ? page : page.getParent().resolve(file).normalize();
                assertTrue(linked.startsWith(repo) && Files.exists(linked),
                        repo.relativize(page) + " links to " + target + ", which is no file of this repository");
                if (hash >= 0) {
                    String anchor = target.substring(hash + 1);
                    assertTrue(anchors(linked).contains(anchor),
                            repo.relativize(page) + " links to " + target + ": no such heading in " + linked.getFileName());
                }
            }
        }
        assertTrue(links >= 20, "only " + links + " links checked");
    }

    /** GitHub's anchors of a Markdown file's headings (outside code blocks). */
    private static List<String> anchors(Path markdown) throws IOException {
        List<String> anchors = new ArrayList<>();
        boolean inBlock = false;
        for (String line : Files.readAllLines(markdown)) {
            if (line.startsWith("```")) {
                inBlock = !inBlock;
            } else if (!inBlock && line.matches("#{1,6} .*")) {
                String title = line.replaceFirst("#+ ", "").toLowerCase(Locale.ROOT);
                anchors.add(title.replaceAll("[^a-z0-9 _-]", "").replace(' ', '-'));
            }
        }
        return anchors;
    }
}
