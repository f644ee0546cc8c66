package dev.cfn.ai.hook;

/**
 * Something run at a {@link Moment} of an agent's work: a Java callback (a lambda) or a configured
 * command ({@link CommandHook}). It runs on the agent's thread and blocks it until it returns.
 *
 * <p>At a {@code PRE_} moment, {@link HookOutcome#block} (or an exception) stops the action and the
 * agent sees the message; at other moments, {@link HookOutcome#feedback} adds text the agent sees
 * (after a tool call or an edit) and a failure is reported as feedback, since the action already
 * happened.
 */
@FunctionalInterface
public interface Hook {

  /**
   * Runs the hook for {@code event}.
   *
   * @param event what happens
   * @return whether the action may go on, and what to tell the agent
   * @throws Exception when the hook fails: treated as {@link HookOutcome#block} with the exception
   *     named
   */
  HookOutcome run(HookEvent event) throws Exception;
}
