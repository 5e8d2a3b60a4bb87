package dev.tftrt.fuzz;

import java.util.List;

/**
 * One case: what to run and what it may leave. Paths in args are written "{case}/..." and
 * resolved against the case's folder when it runs, so a saved case replays anywhere.
 *
 * @param id the case's name in its campaign ("c000123")
 * @param seed the campaign seed; with index it regenerates the case
 * @param recipe which generator made it (graph-bytes, npy, manifest, ...)
 * @param target the command (freeze, convert, inspect, run, compare, export-onnx) or "load"
 * @param args the command line, or for "load" the folder to load
 * @param outputs names under {case}/out/ the command may create when it exits 0
 * @param mutation what was done to the seed input
 */
public record FuzzCase(String id, long seed, long index, String recipe, String target, List<String> args,
    List<String> outputs, String mutation) {

  public static final String CASE = "{case}";

  public List<String> resolvedArgs(java.nio.file.Path caseDir) {
    return args.stream().map(a -> a.replace(CASE, caseDir.toAbsolutePath().toString())).toList();
  }
}
