package dev.tftrt.corpus;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Converts the whole corpus and prints its table (with the error figures too), or with
 * {@code --write README.md} puts the coverage table into the README.
 */
public final class CorpusTable {
  private CorpusTable() {}

  public static void main(String[] args) throws Exception {
    Path models = Path.of("..", "shared", "models");
    Path tmp = Files.createTempDirectory("tftrt-corpus");
    List<Corpus.Row> rows = new ArrayList<>();
    int i = 0;
    for (Corpus.Entry e : Corpus.entries()) {
      long t0 = System.nanoTime();
      try {
        Corpus.Row r = Corpus.convert(e, models, tmp.resolve("m" + i++));
        rows.add(r);
        System.out.printf("%-40s %d engines, heavy %d/%d (%d in loops), left %d, max abs %.3g%s (%.1f s)%n", e.name(), r.engines(),
            r.heavyInside(), r.heavyTotal(), r.heavyTooSmall(), r.leftInTf(), r.maxAbs(), r.identical() ? " identical" : "",
            (System.nanoTime() - t0) / 1e9);
      } catch (Throwable t) {
        System.out.printf("%-40s FAILED: %s (%.1f s)%n", e.name(), t.getMessage(), (System.nanoTime() - t0) / 1e9);
      }
    }
    String table = Corpus.markdown(rows);
    System.out.println(table);
    if (args.length == 2 && args[0].equals("--write")) {
      Path readme = Path.of(args[1]);
      Files.writeString(readme, Corpus.replaceIn(Files.readString(readme), table));
    }
  }
}
