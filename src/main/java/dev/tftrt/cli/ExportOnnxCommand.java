package dev.tftrt.cli;

import dev.tftrt.pipeline.ExportJob;
import dev.tftrt.convert.UnsupportedNodesException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "export-onnx", mixinStandardHelpOptions = true,
    description = "Exports a whole model as one ONNX model. It freezes the model first if needed, and every node"
        + " between its inputs and outputs must convert: otherwise it lists each node that does not, with why."
        + " --inputs/--outputs cut the graph at any tensors. Checks the ONNX model against TensorFlow with ONNX"
        + " Runtime on random input (rtol 1e-3, atol 1e-4) unless --no-verify.")
final class ExportOnnxCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "MODEL", description = "Any TensorFlow model tftrt reads.")
  Path model;

  @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT.onnx", description = "Where to write the ONNX model.")
  Path out;

  @Option(names = "--overwrite", description = "Replace OUT.onnx if it exists (never an input of this run).")
  boolean overwrite;

  @Option(names = "--opset", defaultValue = "17", description = "ONNX opset (default: ${DEFAULT-VALUE}).")
  int opset;



  @Mixin CommonOptions common;
  @Mixin BindOptions bind;
  @Mixin VerifyOptions check;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    Interruption.prepare();
    PrintWriter pw = spec.commandLine().getOut();
    ExportJob.Report r;
    try {
      r = ExportJob.run(new ExportJob.Options(bind.apply(common.load(model)), out, opset, common.shapes(), check.verify(),
          check.seed, check.given()).withOverwrite(overwrite).withAllowUnverified(check.allowUnverified));
    } catch (UnsupportedNodesException e) {
      pw.println("not exported: " + e.nodes().size() + " node(s) do not convert:");
      for (UnsupportedNodesException.Unsupported u : e.nodes()) pw.println("  " + u);
      throw new dev.tftrt.TftrtException(e.nodes().size() + (e.nodes().size() == 1 ? " node does" : " nodes do")
          + " not convert to ONNX (listed above): leave them out by cutting the graph with --inputs or --outputs.");
    } catch (dev.tftrt.runtime.VerificationFailedException e) {
      Printing.diffs(pw, e.report().diffs());
      throw new Main.CheckFailedException(e.getMessage());
    }
    long transposes = r.model().getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("Transpose")).count();
    pw.printf("exported %s -> %s (opset %d): %d frozen nodes, %d optimized, %d ONNX nodes (%d Transpose) in %.0f ms%n",
        model, out, opset, r.frozen().graph().getNodeCount(), r.optimized().nodesAfter(),
        r.model().getGraph().getNodeCount(), transposes, r.exportNanos() / 1e6);
    Printing.onnxValues(pw, "inputs", r.model().getGraph().getInputList());
    Printing.onnxValues(pw, "outputs", r.model().getGraph().getOutputList());
    if (r.verification() == null) {
      pw.println("  verification: skipped (--no-verify)");
    } else if (r.verification().skippedBecause() != null) {
      pw.println("  verification: not run: " + r.verification().skippedBecause());
      check.warnIfUnverified(spec.commandLine().getErr(), r.verification(), out);
    } else {
      pw.println("  verification against TensorFlow (ONNX Runtime, inputs: " + check.describe() + "):");
      Printing.diffs(pw, r.verification().diffs());
    }
    return Main.OK;
  }
}
