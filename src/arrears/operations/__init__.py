"""The engine's operations, one module per concern, each on the one write path.

Every function here takes the `arrears.recorder.Recorder` first and records
only through it; `arrears.engine.Engine` is the façade that makes each
public method one unit of work (`arrears.recorder.operation`) and delegates
here.  Imports point one way: `_common` and `results` at the bottom, then
`stages` (triggers and the cure), `charges`, `joint` (agreements over
several loans), `agreements` (promises and plans), `payments`, `debtors`
(a payment to the debtor across their loans); `cases`, `persons`, `places`,
`holds`, `contacts`, `reviews`, `tasks` and `evidence` beside them.
"""
