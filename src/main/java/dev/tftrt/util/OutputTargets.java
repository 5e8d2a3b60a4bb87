package dev.tftrt.util;

import dev.tftrt.TftrtException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Predicate;

/**
 * The one rule for every path tftrt writes: it never destroys what it did not write. A target
 * is refused when it is empty, a filesystem root, the current or home folder or one of their
 * ancestors, an input of the run (or inside one, or holding one), or an existing file or folder
 * that is not replaceable: an existing file only with --overwrite, an existing folder only when
 * it is empty or tftrt's own output and --overwrite is given. Paths are compared after resolving
 * links (and hard links, as the same file), so a link cannot smuggle an input in.
 */
public final class OutputTargets {
  private OutputTargets() {}

  public enum Kind { FILE, FOLDER }

  /**
   * What a folder target must be to be replaced, with --overwrite: ownFolder says whether the
   * folder is this tool's output; ownKind names it in messages ("a converted model").
   */
  public record Own(Predicate<Path> ownFolder, String ownKind) {}

  /** Checks target; throws a one-sentence {@link TftrtException} naming it when it may not be written. */
  public static void check(Path target, Kind kind, boolean overwrite, Collection<Path> inputs, Own own) {
    if (target == null || target.toString().isBlank()) {
      throw new TftrtException("the output path is empty: name a new file or folder to write.");
    }
    InFlight.recoverKilledRuns(); // a killed run's set-aside output may need to be back before judging
    Path real = real(target);
    String t = target.toString();
    if (real.getFileName() == null || real.getParent() == null) {
      throw new TftrtException("cannot write " + t + ": it is a filesystem root.");
    }
    Path parent = real.getParent();
    if (!Files.isDirectory(parent)) {
      throw new TftrtException("cannot write " + t + ": its folder does not exist.");
    }
    guard(real, t, cwd(), "the current folder");
    for (Path home : homes()) guard(real, t, home, "your home folder");
    for (Path in : inputs) {
      if (in == null) continue;
      Path r = real(in);
      if (same(real, r)) throw new TftrtException("cannot write " + t + ": it is the input " + in + ".");
      if (r.startsWith(real)) throw new TftrtException("cannot write " + t + ": it holds the input " + in + ".");
      if (real.startsWith(r)) throw new TftrtException("cannot write " + t + ": it is inside the input " + in + ".");
    }
    if (!Files.exists(real, LinkOption.NOFOLLOW_LINKS)) return;
    boolean dir = Files.isDirectory(real);
    if (kind == Kind.FILE) {
      if (dir) throw new TftrtException("cannot write " + t + ": it is a folder.");
      if (!overwrite) throw new TftrtException(t + " already exists: give --overwrite to replace it.");
      return;
    }
    if (!dir) throw new TftrtException("cannot write " + t + ": it is a file, not a folder.");
    if (isEmpty(real)) return;
    if (own == null || !own.ownFolder().test(real)) {
      throw new TftrtException("cannot write " + t + ": it is a folder of files tftrt did not write;"
          + " name a new or empty folder.");
    }
    if (!overwrite) {
      throw new TftrtException(t + " already holds " + own.ownKind() + ": give --overwrite to replace it.");
    }
  }

  /** The files a model read from model (with a .meta file's checkpoint) consists of. */
  public static List<Path> modelInputs(Path model, Path checkpoint) {
    List<Path> r = new ArrayList<>();
    if (model == null) return r;
    String name = model.getFileName() == null ? "" : model.getFileName().toString();
    if (name.equals("saved_model.pb") || name.equals("saved_model.pbtxt")) {
      r.add(model.toAbsolutePath().getParent()); // a SavedModel is its whole folder
    } else {
      r.add(model);
      int dot = name.lastIndexOf('.');
      if (dot > 0 && !name.endsWith(".meta")) {
        r.add(model.resolveSibling(name.substring(0, dot) + ".json")); // its sidecar (Sidecar.pathFor), read with it
      }
    }
    if (name.endsWith(".meta")) {
      r.addAll(checkpointFiles(model.resolveSibling(name.substring(0, name.length() - 5))));
      r.add(model.resolveSibling("checkpoint"));
    }
    if (checkpoint != null) {
      String c = checkpoint.toString();
      r.addAll(checkpointFiles(Path.of(c.endsWith(".index") ? c.substring(0, c.length() - 6) : c)));
    }
    return r;
  }

  /** PREFIX.index, PREFIX.data-00000-of-00001 ...: the files of one checkpoint. */
  private static List<Path> checkpointFiles(Path prefix) {
    List<Path> r = new ArrayList<>();
    Path dir = prefix.toAbsolutePath().getParent();
    if (dir == null || prefix.getFileName() == null || !Files.isDirectory(dir)) return r;
    String stem = prefix.getFileName() + ".";
    try (var list = Files.list(dir)) {
      list.filter(p -> p.getFileName().toString().startsWith(stem)).forEach(r::add);
    } catch (IOException e) {
      // unreadable folder: the model cannot be read from it either
    }
    return r;
  }

  private static void guard(Path real, String t, Path protectedDir, String what) {
    if (protectedDir == null) return;
    if (same(real, protectedDir)) throw new TftrtException("cannot write " + t + ": it is " + what + ".");
    if (protectedDir.startsWith(real)) throw new TftrtException("cannot write " + t + ": it holds " + what + ".");
  }

  /**
   * p as the system will resolve it: links followed component by component as far as the path
   * exists, so {@code link/../x} is the x beside the link's target, as the kernel sees it, not
   * the x beside the link; below the first missing component the rest is taken as written.
   */
  static Path real(Path p) {
    Path abs = p.toAbsolutePath();
    Path cur = abs.getRoot();
    boolean missing = false;
    for (Path part : abs) {
      String n = part.toString();
      if (n.equals(".")) continue;
      if (n.equals("..")) {
        if (cur.getParent() != null) cur = cur.getParent();
        continue;
      }
      cur = cur.resolve(n);
      if (!missing) {
        try {
          cur = cur.toRealPath();
        } catch (IOException e) {
          missing = true; // this component does not exist (or is a dangling link): keep it as named
        }
      }
    }
    return cur;
  }

  private static boolean same(Path a, Path b) {
    if (a.equals(b)) return true;
    try {
      return Files.exists(a) && Files.exists(b) && Files.isSameFile(a, b); // hard links too
    } catch (IOException e) {
      return false;
    }
  }

  private static boolean isEmpty(Path dir) {
    try (var list = Files.list(dir)) {
      return list.findAny().isEmpty();
    } catch (IOException e) {
      return false;
    }
  }

  private static Path cwd() {
    return real(Path.of(""));
  }

  /** $HOME and the JVM's user.home (they differ under sudo and in services). */
  private static List<Path> homes() {
    List<Path> r = new ArrayList<>();
    for (String h : new String[] {System.getenv("HOME"), System.getProperty("user.home")}) {
      if (h != null && !h.isBlank() && Path.of(h).isAbsolute()) r.add(real(Path.of(h)));
    }
    return r;
  }
}
