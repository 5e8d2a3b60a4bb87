package dev.tftrt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Every command's --help reads well at 80 columns: no line is longer, every description is
 * written as whole sentences (picocli wraps them; a description hard-wrapped in the source was
 * wrapped twice and broke lines mid-sentence), each shows up unbroken (wrapped only at spaces),
 * and the command list shows the first sentence of each command's description.
 */
class HelpTest {
  private static final int WIDTH = 80;

  private static CommandLine tftrt() {
    CommandLine cl = Main.commandLine();
    cl.setUsageHelpAutoWidth(false);
    cl.setUsageHelpWidth(WIDTH);
    return cl;
  }

  /** The top-level command, then every subcommand, with its help as rendered. */
  private static List<Map.Entry<CommandLine, String>> everyHelp() {
    CommandLine top = tftrt();
    List<Map.Entry<CommandLine, String>> r = new ArrayList<>();
    r.add(Map.entry(top, top.getUsageMessage()));
    for (CommandLine sub : top.getSubcommands().values()) r.add(Map.entry(sub, sub.getUsageMessage()));
    return r;
  }

  private static String collapse(String s) {
    return s.replace("%n", " ").replaceAll("\\s+", " ").strip();
  }

  /** picocli's own help command, whose texts are picocli's (its description uses %n breaks). */
  private static boolean picocliOwn(CommandSpec spec) {
    return spec.userObject() instanceof CommandLine.HelpCommand;
  }

  /** The descriptions of a command, its options and its positional parameters, as given in the source. */
  private static List<String> descriptions(CommandSpec spec) {
    List<String> d = new ArrayList<>(List.of(spec.usageMessage().description()));
    List<ArgSpec> args = new ArrayList<>(spec.options());
    args.addAll(spec.positionalParameters());
    for (ArgSpec a : args) {
      if (a.hidden()) continue;
      for (String line : a.description()) d.add(line.replace("${DEFAULT-VALUE}", String.valueOf(a.defaultValueString())));
    }
    return d;
  }

  @Test
  void noLineIsWiderThan80Columns() {
    for (Map.Entry<CommandLine, String> e : everyHelp()) {
      for (String line : e.getValue().split("\n")) {
        assertTrue(line.length() <= WIDTH, e.getKey().getCommandName() + ": " + line.length() + " columns: " + line);
      }
    }
  }

  @Test
  void everyDescriptionIsWholeSentencesAndShowsUnbroken() {
    int checked = 0;
    for (Map.Entry<CommandLine, String> e : everyHelp()) {
      CommandSpec spec = e.getKey().getCommandSpec();
      String name = e.getKey().getCommandName();
      String rendered = collapse(e.getValue());
      for (String d : descriptions(spec)) {
        if (!picocliOwn(spec)) {
          assertTrue(d.matches("(?s)\\S.*[.!?:]\\)?"), name + ": a description must be whole sentences, ending"
              + " with a full stop, not a line cut from one: \"" + d + "\"");
          assertTrue(!d.contains("\n"), name + ": no line breaks in a description: " + d);
        }
        // Wrapped only at spaces: a break inside ".meta" or after a hyphen shows up as a space here.
        assertTrue(rendered.contains(collapse(d)), name + ": \"" + d + "\" is not shown as written:\n" + e.getValue());
        checked++;
      }
    }
    assertTrue(checked > 60, "checked " + checked + " descriptions");
  }

  @Test
  void theCommandListShowsTheFirstSentenceOfEachDescription() {
    CommandLine top = tftrt();
    String help = top.getUsageMessage();
    String list = help.substring(help.indexOf("Commands:\n") + "Commands:\n".length());
    // One row per command: a line starting with two spaces and a name, then its wrapped lines.
    List<String> rows = new ArrayList<>();
    for (String line : list.split("\n")) {
      if (line.isBlank()) continue;
      if (line.matches("  \\S.*")) rows.add(line);
      else rows.set(rows.size() - 1, rows.get(rows.size() - 1) + " " + line);
    }
    List<String> expected = new ArrayList<>();
    for (Map.Entry<String, CommandLine> e : top.getSubcommands().entrySet()) {
      CommandSpec spec = e.getValue().getCommandSpec();
      String summary = picocliOwn(spec) ? spec.usageMessage().header()[0]
          : spec.usageMessage().description()[0].split("(?<=\\.) ", 2)[0];
      assertTrue(summary.endsWith("."), summary);
      expected.add(e.getKey() + " " + summary);
    }
    assertEquals(expected, rows.stream().map(HelpTest::collapse).toList());
  }

  @Test
  void firstSentenceStopsAtTheFirstFullStopBeforeASpace() {
    assertEquals("Reads a.pb file.", HelpLayout.firstSentence("Reads a.pb file. Then more."));
    assertEquals("No stop at all", HelpLayout.firstSentence("No stop at all"));
  }
}
