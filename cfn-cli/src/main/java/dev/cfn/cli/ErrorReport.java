package dev.cfn.cli;

import dev.cfn.ai.model.ModelConfigException;
import dev.cfn.core.spi.CallLogException;
import dev.cfn.core.spi.JournalException;
import dev.cfn.core.spi.MemoryAccessException;
import dev.cfn.core.spi.MemoryException;
import dev.cfn.store.audit.AuditException;
import dev.cfn.store.crypto.KeyringException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.time.DateTimeException;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;

/**
 * The one error path of the command line: every failure, of parsing or of a command, becomes the
 * single line {@code cfn <command>: what is wrong (fix: ...)} on standard error with an {@link
 * ExitCode}. The stack trace is printed only with {@code --debug}. Commands therefore throw (a
 * {@link CommandFailure}, or the library's own exceptions, whose messages already say what to do)
 * instead of catching and printing.
 */
final class ErrorReport
    implements CommandLine.IExecutionExceptionHandler, CommandLine.IParameterExceptionHandler {

  /** Installs this report on {@code cl} and, through it, on every subcommand. */
  static void install(CommandLine cl) {
    ErrorReport report = new ErrorReport();
    cl.setExecutionExceptionHandler(report);
    cl.setParameterExceptionHandler(report);
  }

  @Override
  public int handleParseException(ParameterException ex, String[] args) {
    CommandLine cmd = ex.getCommandLine();
    PrintWriter err = cmd.getErr();
    if (List.of(args).contains("--debug")) {
      ex.printStackTrace(err);
    }
    String name = name(cmd);
    String what;
    String fix = name + " --help lists the options";
    String unknown =
        ex instanceof CommandLine.UnmatchedArgumentException ? null : unknownOption(cmd, args);
    if (unknown != null) {
      what = "unknown option '" + unknown + "'";
    } else if (ex instanceof CommandLine.UnmatchedArgumentException u) {
      String first = u.getUnmatched().isEmpty() ? "?" : u.getUnmatched().get(0);
      boolean option = first.startsWith("-") && first.length() > 1;
      if (first.isBlank()) {
        print(err, name, "an empty argument ''", "give a name or a path, or leave it out");
        return ExitCode.USAGE;
      }
      boolean group = !cmd.getSubcommands().isEmpty();
      what =
          (option ? "unknown option '" : group ? "unknown command '" : "unexpected argument '")
              + first
              + "'";
      if (group && !option) {
        fix = name + " --help lists the commands: " + String.join(", ", visible(cmd));
      }
      List<String> suggestions = u.getSuggestions();
      if (!suggestions.isEmpty()) {
        fix = "did you mean " + String.join(" or ", suggestions) + "? " + fix;
      }
    } else {
      what = decapitalise(ex.getMessage());
    }
    print(err, name, what, what.contains("(fix:") ? null : fix);
    return ExitCode.USAGE;
  }

  @Override
  public int handleExecutionException(
      Exception ex, CommandLine cmd, CommandLine.ParseResult parsed) {
    PrintWriter err = cmd.getErr();
    cmd.getOut().flush();
    if (debug(parsed)) {
      ex.printStackTrace(err);
    }
    String name = name(cmd);
    int code;
    String what;
    String fix = null;
    if (ex instanceof CommandFailure f) {
      code = f.exitCode();
      what = f.getMessage();
      fix = f.fix();
    } else if (ex instanceof ParameterException p) {
      code = ExitCode.USAGE;
      what = decapitalise(p.getMessage());
      fix = name + " --help";
    } else if (ex instanceof MemoryAccessException) {
      code = ExitCode.DENIED;
      what = ex.getMessage();
    } else if (ex instanceof IllegalArgumentException
        || ex instanceof JournalException
        || ex instanceof MemoryException
        || ex instanceof CallLogException
        || ex instanceof AuditException
        || ex instanceof KeyringException
        || ex instanceof ModelConfigException
        || ex instanceof DateTimeException
        || ex instanceof UncheckedIOException) {
      code = ExitCode.USAGE;
      what = ex.getMessage();
    } else if (ex instanceof FileSystemException f) {
      code = ExitCode.USAGE;
      what = fileProblem(f);
      fix = "check the path and its permissions";
    } else if (ex instanceof IOException) {
      code = ExitCode.USAGE;
      what = ex.getMessage();
      fix = "check the path and its permissions";
    } else {
      code = ExitCode.ERROR;
      what = "unexpected error: " + ex.getClass().getSimpleName() + ": " + ex.getMessage();
      fix = "rerun with --debug for the stack trace, and report it";
    }
    // The library's exceptions (journal, memory, providers) say what to do in their message.
    print(err, name, what, fix);
    return code;
  }

  /** "cfn memory get", the command as typed. */
  static String name(CommandLine cmd) {
    return cmd.getCommandSpec().qualifiedName();
  }

  /** Prints the one line; newlines inside messages become spaces so it stays one line. */
  static void print(PrintWriter err, String name, String what, String fix) {
    String text = oneLine(what == null ? "failed" : what);
    if (text.startsWith(name + ": ")) {
      text = text.substring(name.length() + 2);
    }
    err.println(name + ": " + text + (fix == null || fix.isBlank() ? "" : " (fix: " + fix + ")"));
    err.flush();
  }

  static String oneLine(String s) {
    return s.replaceAll("\\s*\\R\\s*", " ").strip();
  }

  private static String fileProblem(FileSystemException f) {
    String file = f.getFile();
    return switch (f) {
      case NoSuchFileException n -> "no such file or folder: " + file;
      case AccessDeniedException a -> "permission denied: " + file;
      case NotDirectoryException n -> "not a folder: " + file;
      case FileAlreadyExistsException e -> "already exists: " + file;
      default -> (f.getReason() == null ? "cannot use" : decapitalise(f.getReason())) + ": " + file;
    };
  }

  private static String decapitalise(String s) {
    if (s == null || s.isEmpty()) {
      return "failed";
    }
    return s.length() > 1
            && Character.isUpperCase(s.charAt(0))
            && Character.isLowerCase(s.charAt(1))
        ? Character.toLowerCase(s.charAt(0)) + s.substring(1)
        : s;
  }

  private static boolean debug(CommandLine.ParseResult parsed) {
    for (CommandLine.ParseResult p = parsed; p != null; p = p.subcommand()) {
      if (p.hasMatchedOption("--debug")) {
        return true;
      }
    }
    return false;
  }

  private static List<String> visible(CommandLine cmd) {
    return cmd.getSubcommands().entrySet().stream()
        .filter(e -> !e.getValue().getCommandSpec().usageMessage().hidden())
        .map(java.util.Map.Entry::getKey)
        .filter(n -> !n.equals("help"))
        .toList();
  }

  /**
   * The first argument that looks like an option but is none of {@code cmd}'s (nor of a command
   * above it), so that {@code backup --bogus} names the typo rather than only the missing --to.
   */
  private static String unknownOption(CommandLine cmd, String[] args) {
    if (cmd.getCommandSpec().parser().stopAtPositional()
        || cmd.getCommandSpec().unmatchedArgsBindings().size() > 0) {
      return null;
    }
    for (String arg : args) {
      if (arg.equals("--")) {
        return null;
      }
      if (!arg.startsWith("-") || arg.length() < 2 || Character.isDigit(arg.charAt(1))) {
        continue;
      }
      String opt = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
      if (!known(cmd, opt)) {
        return opt;
      }
    }
    return null;
  }

  private static boolean known(CommandLine cmd, String opt) {
    for (CommandSpec s = cmd.getCommandSpec(); s != null; s = s.parent()) {
      if (s.findOption(opt) != null) {
        return true;
      }
      if (!opt.startsWith("--") && opt.length() > 2) { // clustered short options such as -hV
        boolean all = true;
        for (char c : opt.substring(1).toCharArray()) {
          OptionSpec o = s.findOption(c);
          all &= o != null;
        }
        if (all) {
          return true;
        }
      }
    }
    return false;
  }
}
