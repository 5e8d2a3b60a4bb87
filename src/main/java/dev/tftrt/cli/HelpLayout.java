package dev.tftrt.cli;

import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Help;
import picocli.CommandLine.Help.Column;
import picocli.CommandLine.Help.TextTable;
import picocli.CommandLine.Model.UsageMessageSpec;

/**
 * How --help is laid out. Descriptions are written in the source as whole sentences, unwrapped,
 * and picocli wraps them at {@link #WIDTH} columns; the command list shows only the first
 * sentence of each command's description (picocli's own list shows its first source line,
 * which stopped mid-sentence), so write that sentence as the command's summary.
 */
final class HelpLayout {
  /** The width help is written for: what any terminal shows without wrapping it again. */
  static final int WIDTH = 80;

  private HelpLayout() {}

  static CommandLine apply(CommandLine cl) {
    cl.setUsageHelpWidth(WIDTH);
    cl.getHelpSectionMap().put(UsageMessageSpec.SECTION_KEY_COMMAND_LIST, HelpLayout::commandList);
    return cl;
  }

  /** The commands, each with the first sentence of its description, wrapped to the width. */
  private static String commandList(Help help) {
    Map<String, Help> commands = help.subcommands();
    if (commands.isEmpty()) return "";
    int names = 0;
    for (String name : commands.keySet()) names = Math.max(names, name.length());
    int left = names + 2; // two spaces before the name; the next column starts two after the longest
    int width = help.commandSpec().usageMessage().width();
    TextTable table = TextTable.forColumns(help.colorScheme(),
        new Column(left, 2, Column.Overflow.SPAN), new Column(width - left, 2, Column.Overflow.WRAP));
    for (Map.Entry<String, Help> e : commands.entrySet()) {
      String first = summary(e.getValue().commandSpec().usageMessage());
      table.addRowValues(help.colorScheme().commandText(e.getKey()), help.colorScheme().text(first));
    }
    return table.toString();
  }

  /** A command's header when it has one (picocli's help command), else its description's first sentence. */
  static String summary(UsageMessageSpec usage) {
    if (usage.header().length > 0) return usage.header()[0];
    return usage.description().length == 0 ? "" : firstSentence(usage.description()[0]);
  }

  /** Up to and including the first full stop followed by a space (or the end). */
  static String firstSentence(String text) {
    int end = text.indexOf(". ");
    return end < 0 ? text : text.substring(0, end + 1);
  }
}
