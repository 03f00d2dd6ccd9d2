using System.Globalization;
using OpenVret.Exposure.Domain;
using OpenVret.Exposure.Expectancy;
using OpenVret.Exposure.Rules;
using OpenVret.Exposure.Safety;
using OpenVret.Exposure.Scheduling;

namespace OpenVret.Exposure.Session;

public enum EngineMode
{
    /// <summary>The therapist drives; the engine records what it would have proposed. Safety still acts.</summary>
    Manual,
    /// <summary>Nothing changes until the therapist approves or edits a proposal.</summary>
    Suggest,
    /// <summary>Proposals apply after a veto window; the therapist can veto or override at any time.</summary>
    SupervisedAuto,
}

public enum ProposalStatus { Recorded, Pending, Scheduled, Applied, Rejected, Vetoed, Superseded, Blocked, Cancelled }

/// <summary>Something the engine did or saw; the audit trail and the console read these.</summary>
public sealed record EngineEvent(TimeSpan At, string Kind, string Text, Proposal? Proposal = null, ProposalStatus? Status = null);

/// <summary>
/// One exposure session as a single-threaded unit that owns its state (hostable in-process or as an actor).
/// On every state update the safety policy runs first and acts in every mode; then the rule file; then the
/// scheduler at decision points (a trial ended, or the step has run long). Every decision is a
/// <see cref="Proposal"/> with its reasons. While a safety hold is active no proposal may raise intensity;
/// only the therapist can (by overriding, which releases the hold and is recorded). Emergency stop always wins.
/// Time for veto windows comes from the injected <see cref="TimeProvider"/>.
/// </summary>
public sealed class ExposureEngine
{
    private readonly Patient _patient;
    private readonly IExposureScheduler _scheduler;
    private readonly RuleSet _rules;
    private readonly SafetyPolicy _safety;
    private readonly TimeProvider _clock;
    private readonly Random _random;
    private readonly List<EngineEvent> _events = new();
    private readonly List<TrialRecord> _trials = new();
    private readonly Dictionary<string, (Proposal Proposal, ProposalStatus Status, DateTimeOffset? ApplyAt)> _proposals = new(StringComparer.Ordinal);
    private readonly HashSet<string> _activeSafety = new(StringComparer.Ordinal);
    private SessionSnapshot _snapshot;
    private IReadOnlyDictionary<string, double> _parameters;
    private ExposureContext _context;
    private int _highestReached;
    private int _nextId = 1;
    private string? _lastRuleKey;
    private TimeSpan _lastDecisionAt;

    public EngineMode Mode { get; }
    public TimeSpan VetoWindow { get; }
    public TimeSpan MaxStepDuration { get; init; } = TimeSpan.FromMinutes(5);
    public ExpectancyModel Expectancy { get; }
    public TherapistPreferences Preferences { get; }
    public ExposureContext? PreviousSessionContext { get; }
    public bool HoldActive { get; private set; }
    public bool Stopped { get; private set; }
    public IReadOnlyList<EngineEvent> Events => _events;
    public IReadOnlyList<TrialRecord> Trials => _trials;
    public SessionSnapshot Snapshot => _snapshot;
    public string CurrentItemId => _snapshot.CurrentItemId!;
    public IReadOnlyDictionary<string, double> CurrentParameters => _parameters;
    public ExposureContext CurrentContext => _context;
    public string SchedulerId => _scheduler.Id;

    public ExposureEngine(Patient patient, IExposureScheduler scheduler, RuleSet rules, SafetyOptions safety, EngineMode mode, TimeProvider clock,
        int seed, TimeSpan? vetoWindow = null, ExpectancyModel? expectancy = null, TherapistPreferences? preferences = null,
        int sessionNumber = 1, ExposureContext? previousSessionContext = null, string? startItemId = null, string? highestItemReachedId = null)
    {
        _patient = patient;
        _scheduler = scheduler;
        _rules = rules;
        _safety = new SafetyPolicy(safety, patient.PersonalHeartRateLimitBpm);
        _clock = clock;
        _random = new Random(seed);
        Mode = mode;
        VetoWindow = vetoWindow ?? TimeSpan.FromSeconds(10);
        if (VetoWindow < TimeSpan.FromSeconds(3))
            throw new ExposureInputException("vetoWindow", VetoWindow.TotalSeconds.ToString(CultureInfo.InvariantCulture), "the therapist needs at least 3 s to veto");
        Expectancy = expectancy ?? new ExpectancyModel();
        Preferences = preferences ?? new TherapistPreferences();
        PreviousSessionContext = previousSessionContext;
        var first = startItemId is null ? patient.Hierarchy.Items[0] : patient.Hierarchy[startItemId];
        _highestReached = Math.Max(patient.Hierarchy.IndexOf(first.Id), highestItemReachedId is null ? 0 : patient.Hierarchy.IndexOf(highestItemReachedId));
        _parameters = first.Parameters;
        _context = previousSessionContext ?? first.Context;
        _snapshot = new SessionSnapshot { CurrentItemId = first.Id, CurrentIntensity = first.Intensity, SessionNumber = sessionNumber, PredictedExpectancy = Expectancy.Predict(first.Id, first.AnticipatedSuds) };
        Log("session_start", $"session {sessionNumber} with scheduler '{scheduler.Id}' in {mode} mode; first step '{first.Label}' in {_context}");
    }

    // ----------------------------------------------------------------------------------------- updates

    /// <summary>Takes one observation; returns the events it caused.</summary>
    public IReadOnlyList<EngineEvent> OnUpdate(StateUpdate u)
    {
        int before = _events.Count;
        Validate(u);
        Tick();
        Merge(u);
        if (Stopped) return _events.Skip(before).ToList();

        var safety = _safety.Evaluate(_snapshot);
        var fresh = safety.Events.Where(e => !_activeSafety.Contains(e.Id)).ToList();
        _activeSafety.Clear();
        foreach (var e in safety.Events) _activeSafety.Add(e.Id);
        if (safety.Response != SafetyResponse.None)
        {
            if (!HoldActive) { HoldActive = true; Log("safety_hold", "safety hold on: intensity will not be raised until the therapist releases it"); }
            foreach (var e in fresh) Log("safety_alert", $"ALERT therapist: {e.Text}");
            if (fresh.Count > 0) ProposeSafety(safety);
        }
        if (!_snapshot.Paused && safety.Response < SafetyResponse.StepDown) DecideTherapeutic(u.TrialEnded);
        return _events.Skip(before).ToList();
    }

    private void Validate(StateUpdate u)
    {
        if (u.Elapsed < _snapshot.Elapsed)
            throw new ExposureInputException("update.elapsed", u.Elapsed.TotalSeconds.ToString(CultureInfo.InvariantCulture), $"session time went back (last {_snapshot.Elapsed.TotalSeconds:0.###} s); the update was not applied");
        void Range(string f, double? v, double lo, double hi)
        {
            if (v is double x && !(x >= lo && x <= hi)) throw new ExposureInputException($"update.{f}", x.ToString(CultureInfo.InvariantCulture), $"must lie in {lo}..{hi}; the update was not applied");
        }
        Range("arousalProbability", u.ArousalProbability, 0, 1);
        Range("arousalLevel", u.ArousalLevel, 0, 3);
        Range("heartRateBpm", u.HeartRateBpm, 20, 250);
        Range("suds", u.Suds, 0, 100);
        Range("headAwaySeconds", u.HeadAwaySeconds, 0, 86400);
        Range("expectancyBefore", u.ExpectancyBefore, 0, 100);
        Range("outcomeAfter", u.OutcomeAfter, 0, 100);
        Range("speechSeconds", u.SpeechSeconds, 0, 3600);
        Range("responseLatencySeconds", u.ResponseLatencySeconds, 0, 3600);
    }

    private void Merge(StateUpdate u)
    {
        var s = _snapshot;
        bool physiology = u.ArousalProbability is not null || u.HeartRateBpm is not null;
        s = s with
        {
            Elapsed = u.Elapsed,
            ArousalProbability = u.ArousalProbability ?? s.ArousalProbability,
            ArousalLevel = u.ArousalLevel ?? s.ArousalLevel,
            HeartRateBpm = u.HeartRateBpm ?? s.HeartRateBpm,
            Suds = u.Suds ?? s.Suds,
            PeakSudsInStep = u.Suds is double su ? Math.Max(su, s.PeakSudsInStep ?? 0) : s.PeakSudsInStep,
            HeadAwaySeconds = u.HeadAwaySeconds ?? s.HeadAwaySeconds,
            Sensors = u.Sensors ?? s.Sensors,
            DissociationSigns = u.DissociationSigns ?? Array.Empty<string>(),
            LastPhysiologyAt = physiology ? u.Elapsed : s.LastPhysiologyAt,
            LastSpeechSeconds = u.SpeechSeconds ?? s.LastSpeechSeconds,
            LastResponseLatencySeconds = u.ResponseLatencySeconds ?? s.LastResponseLatencySeconds,
        };
        if (u.TrialEnded)
        {
            var item = _patient.Hierarchy[s.CurrentItemId!];
            TrialRatings? ratings = u.ExpectancyBefore is double e && u.OutcomeAfter is double o ? new TrialRatings(e, o) : null;
            if (ratings is not null)
            {
                var up = Expectancy.Update(item.Id, ratings);
                Log("expectancy", $"'{item.Label}': expected {ratings.ExpectancyBefore:0}, occurred {ratings.OutcomeAfter:0}, violation {ratings.Violation:+0;-0;0}; " +
                    $"model {up.Predicted:0} -> {100 * up.StrengthAfter:0}");
                s = s with { LastViolation = ratings.Violation };
            }
            _trials.Add(new TrialRecord(s.SessionNumber, item.Id, _parameters, _context, s.CurrentIntensity, ratings, s.PeakSudsInStep, u.Elapsed));
            s = s with { TrialCount = s.TrialCount + 1, PredictedExpectancy = Expectancy.Predict(item.Id, item.AnticipatedSuds) };
        }
        _snapshot = s;
    }

    // ----------------------------------------------------------------------------------------- decisions

    private SchedulerContext Context(bool midTrial = false) => new(_patient.Hierarchy, _snapshot, Expectancy, _trials, Preferences, _random,
        _snapshot.CurrentItemId!, _parameters, _context, PreviousSessionContext, _highestReached, midTrial);

    private void ProposeSafety(SafetyAssessment a)
    {
        _lastRuleKey = null; // the situation changed: a rule may propose again once safety clears
        var reasons = a.Events.Select(e => new Reason(ReasonKind.Safety, e.Id, e.Text, e.Values)).ToList();
        switch (a.Response)
        {
            case SafetyResponse.PauseScene:
                Submit(Build(ExposureAction.PauseScene, null, reasons, 1.0), safety: true); break;
            case SafetyResponse.StepDown:
                Submit(Build(ExposureAction.StepDown, _scheduler.Realize(ExposureAction.StepDown, Context()), reasons, 1.0), safety: true); break;
            default:
                Submit(Build(ExposureAction.Hold, null, reasons, 1.0), safety: true); break;
        }
    }

    private void DecideTherapeutic(bool trialEnded)
    {
        var values = _snapshot.Values();
        var rule = _rules.FirstFiring(values);
        bool decisionPoint = trialEnded || _snapshot.Elapsed - _lastDecisionAt >= MaxStepDuration && _snapshot.TimeInStepSeconds >= MaxStepDuration.TotalSeconds;
        if (rule is not null)
        {
            var reason = new Reason(ReasonKind.Rule, rule.Id, rule.Explanation(values), rule.When.Where(c => values.ContainsKey(c.Field)).ToDictionary(c => c.Field, c => values[c.Field]));
            if (rule.Then is ExposureAction.Continue or ExposureAction.Hold)
            {
                if (decisionPoint) { _lastDecisionAt = _snapshot.Elapsed; Log("rule_hold", $"rule '{rule.Id}' keeps the current step: {reason.Text}"); }
                return;
            }
            string key = $"{rule.Id}@{_snapshot.CurrentItemId}#{_snapshot.TrialCount}";
            if (key == _lastRuleKey) return; // already proposed for this step and trial
            _lastRuleKey = key;
            _lastDecisionAt = _snapshot.Elapsed;
            Submit(Build(rule.Then, _scheduler.Realize(rule.Then, Context()), new[] { reason }, 0.8), safety: false);
            return;
        }
        if (!decisionPoint)
        {
            // Mid-trial check, for schedulers that vary the stimulus within a trial.
            if (_scheduler.MidTrialCheck is TimeSpan every && _snapshot.Elapsed - Max(_lastDecisionAt, _snapshot.StepStartedAt) >= every)
            {
                _lastDecisionAt = _snapshot.Elapsed;
                var mid = Context(midTrial: true);
                var (a, rs, c) = _scheduler.Decide(mid);
                if (a is not ExposureAction.Continue) Submit(Build(a, _scheduler.Realize(a, mid), rs, c), safety: false);
            }
            return;
        }
        _lastDecisionAt = _snapshot.Elapsed;
        var ctx = Context();
        var (action, reasons, confidence) = _scheduler.Decide(ctx);
        if (action is ExposureAction.Continue) { Log("scheduler_hold", string.Join("; ", reasons.Select(r => r.Text))); return; }
        Submit(Build(action, _scheduler.Realize(action, ctx), reasons, confidence), safety: false);
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private Proposal Build(ExposureAction action, ExposureTarget? target, IEnumerable<Reason> reasons, double confidence)
    {
        var h = _patient.Hierarchy;
        string item = target?.ItemId ?? _snapshot.CurrentItemId!;
        var parameters = target?.Parameters ?? _parameters;
        double after = action is ExposureAction.PauseScene or ExposureAction.Hold ? _snapshot.CurrentIntensity : h[item].Scenario.Intensity(parameters);
        var all = reasons.Concat(target?.Reasons ?? Array.Empty<Reason>()).ToList();
        var expected = Expectancy.Predict(item, h[item].AnticipatedSuds);
        all.Add(new Reason(ReasonKind.Expectancy, "expectancy-state", $"predicted expectancy for '{h[item].Label}': {expected:0} of 100",
            new Dictionary<string, double> { ["expectancy"] = expected }));
        return new Proposal($"p{_nextId++}", _snapshot.Elapsed, action, item, parameters, target?.Context ?? _context, all, confidence,
            _snapshot.CurrentIntensity, after, target?.InterTrialInterval);
    }

    private void Submit(Proposal p, bool safety)
    {
        // The hold: nothing the engine proposes may raise intensity (the therapist can, by overriding).
        if (HoldActive && p.RaisesIntensity)
        {
            Record(p, ProposalStatus.Blocked);
            Log("blocked", $"{p.Action} blocked: a safety hold is active; only the therapist can raise intensity past it", p, ProposalStatus.Blocked);
            return;
        }
        // A new proposal supersedes any still waiting.
        foreach (var (id, entry) in _proposals.ToList())
            if (entry.Status is ProposalStatus.Pending or ProposalStatus.Scheduled)
            {
                _proposals[id] = (entry.Proposal, ProposalStatus.Superseded, null);
                Log("superseded", $"{id} superseded by {p.Id}", entry.Proposal, ProposalStatus.Superseded);
            }
        if (safety) { Record(p, ProposalStatus.Applied); Apply(p, "safety acts at once, in every mode"); return; }
        switch (Mode)
        {
            case EngineMode.Manual:
                Record(p, ProposalStatus.Recorded);
                Log("recorded", $"manual mode: recorded, not applied: {p}", p, ProposalStatus.Recorded);
                break;
            case EngineMode.Suggest:
                Record(p, ProposalStatus.Pending);
                Log("proposed", $"awaiting the therapist: {p}", p, ProposalStatus.Pending);
                break;
            default:
                _proposals[p.Id] = (p, ProposalStatus.Scheduled, _clock.GetUtcNow() + VetoWindow);
                Log("proposed", $"applies in {VetoWindow.TotalSeconds:0} s unless vetoed: {p}", p, ProposalStatus.Scheduled);
                break;
        }
    }

    private void Record(Proposal p, ProposalStatus status) => _proposals[p.Id] = (p, status, null);

    /// <summary>Applies scheduled proposals whose veto window has passed (supervised-auto).</summary>
    public IReadOnlyList<EngineEvent> Tick()
    {
        int before = _events.Count;
        var now = _clock.GetUtcNow();
        foreach (var (id, entry) in _proposals.Where(kv => kv.Value.Status == ProposalStatus.Scheduled && kv.Value.ApplyAt <= now).OrderBy(kv => kv.Value.ApplyAt).ToList())
        {
            if (Stopped) break;
            if (HoldActive && entry.Proposal.RaisesIntensity)
            {
                _proposals[id] = (entry.Proposal, ProposalStatus.Blocked, null);
                Log("blocked", $"{id} blocked at the end of its veto window: a safety hold became active", entry.Proposal, ProposalStatus.Blocked);
                continue;
            }
            _proposals[id] = (entry.Proposal, ProposalStatus.Applied, null);
            Apply(entry.Proposal, "veto window passed");
        }
        return _events.Skip(before).ToList();
    }

    private void Apply(Proposal p, string why)
    {
        var h = _patient.Hierarchy;
        switch (p.Action)
        {
            case ExposureAction.PauseScene: _snapshot = _snapshot with { Paused = true }; break;
            case ExposureAction.Resume: _snapshot = _snapshot with { Paused = false }; break;
            case ExposureAction.Hold or ExposureAction.Continue or ExposureAction.RetrievalCue or ExposureAction.EndTrial: break;
            default:
                {
                    bool newStep = p.ItemId != _snapshot.CurrentItemId;
                    _parameters = p.Parameters;
                    _context = p.Context ?? _context;
                    int idx = h.IndexOf(p.ItemId!);
                    if (p.Action is not ExposureAction.StepDown) _highestReached = Math.Max(_highestReached, idx);
                    _snapshot = _snapshot with
                    {
                        CurrentItemId = p.ItemId,
                        CurrentIntensity = h[p.ItemId!].Scenario.Intensity(p.Parameters),
                        StepStartedAt = newStep || p.Action is ExposureAction.Vary or ExposureAction.Combine or ExposureAction.StepDown ? _snapshot.Elapsed : _snapshot.StepStartedAt,
                        PeakSudsInStep = newStep ? null : _snapshot.PeakSudsInStep,
                        PredictedExpectancy = Expectancy.Predict(p.ItemId!, h[p.ItemId!].AnticipatedSuds),
                    };
                    break;
                }
        }
        Log("applied", $"{p} ({why})", p, ProposalStatus.Applied);
    }

    // ----------------------------------------------------------------------------------------- therapist

    /// <summary>The proposals waiting for the therapist (pending) or for their veto window to close (scheduled, with the time they apply).</summary>
    public IReadOnlyList<(Proposal Proposal, ProposalStatus Status, DateTimeOffset? ApplyAt)> AwaitingDecision =>
        _proposals.Values.Where(e => e.Status is ProposalStatus.Pending or ProposalStatus.Scheduled).ToList();

    public ProposalStatus StatusOf(string id) => _proposals.TryGetValue(id, out var e) ? e.Status
        : throw new ExposureInputException("proposalId", id, "no such proposal");

    /// <summary>Approves a pending (or scheduled) proposal, optionally with edited parameters.</summary>
    public IReadOnlyList<EngineEvent> Approve(string proposalId, IReadOnlyDictionary<string, double>? editedParameters = null)
    {
        int before = _events.Count;
        var (p, status, _) = Waiting(proposalId);
        if (Stopped) throw new ExposureInputException("proposalId", proposalId, "the session is stopped; resume it first");
        var final = p;
        if (editedParameters is not null)
        {
            var item = _patient.Hierarchy[p.ItemId!];
            var validated = item.Scenario.Validate(editedParameters, "edit.parameters");
            final = p with { Parameters = validated, IntensityAfter = item.Scenario.Intensity(validated),
                Reasons = p.Reasons.Append(new Reason(ReasonKind.Therapist, "edited", "parameters edited by the therapist")).ToList() };
            Preferences.Learn(_snapshot.Elapsed, TherapistResponse.Edited, p, final.IntensityAfter - final.IntensityBefore);
        }
        else Preferences.Learn(_snapshot.Elapsed, TherapistResponse.Approved, p, p.IntensityAfter - p.IntensityBefore);
        if (HoldActive && final.RaisesIntensity)
        {
            HoldActive = false;
            Log("hold_released", "the therapist approved a raise: safety hold released by the therapist");
        }
        _proposals[proposalId] = (final, ProposalStatus.Applied, null);
        Apply(final, editedParameters is null ? "approved by the therapist" : "edited and approved by the therapist");
        return _events.Skip(before).ToList();
    }

    public IReadOnlyList<EngineEvent> Reject(string proposalId, string? why = null)
    {
        int before = _events.Count;
        var (p, _, _) = Waiting(proposalId);
        _proposals[proposalId] = (p, ProposalStatus.Rejected, null);
        Preferences.Learn(_snapshot.Elapsed, TherapistResponse.Rejected, p, 0);
        Log("rejected", $"{proposalId} rejected by the therapist{(why is null ? "" : ": " + why)}", p, ProposalStatus.Rejected);
        return _events.Skip(before).ToList();
    }

    public IReadOnlyList<EngineEvent> Veto(string proposalId)
    {
        int before = _events.Count;
        var (p, status, _) = Waiting(proposalId);
        _proposals[proposalId] = (p, ProposalStatus.Vetoed, null);
        Preferences.Learn(_snapshot.Elapsed, TherapistResponse.Vetoed, p, 0);
        Log("vetoed", $"{proposalId} vetoed by the therapist", p, ProposalStatus.Vetoed);
        return _events.Skip(before).ToList();
    }

    /// <summary>
    /// The therapist sets the stimulus directly (any item and parameters). This is the only way to raise
    /// intensity past a safety hold; doing so releases the hold and is recorded.
    /// </summary>
    public IReadOnlyList<EngineEvent> Override(string itemId, IReadOnlyDictionary<string, double>? parameters = null, ExposureContext? context = null, string? why = null)
    {
        int before = _events.Count;
        if (Stopped) throw new ExposureInputException("override", itemId, "the session is stopped; resume it first");
        var item = _patient.Hierarchy[itemId];
        var values = item.Scenario.Validate(parameters ?? item.Parameters, "override.parameters");
        double after = item.Scenario.Intensity(values);
        var p = new Proposal($"p{_nextId++}", _snapshot.Elapsed, ExposureAction.Start, itemId, values, context ?? _context,
            new[] { new Reason(ReasonKind.Therapist, "override", why ?? "set by the therapist") }, 1.0, _snapshot.CurrentIntensity, after);
        foreach (var (id, entry) in _proposals.ToList())
            if (entry.Status is ProposalStatus.Pending or ProposalStatus.Scheduled) _proposals[id] = (entry.Proposal, ProposalStatus.Cancelled, null);
        if (HoldActive && p.RaisesIntensity) { HoldActive = false; Log("hold_released", $"safety hold released by the therapist's override{(why is null ? "" : ": " + why)}"); }
        Preferences.Learn(_snapshot.Elapsed, TherapistResponse.Overridden, p, after - p.IntensityBefore);
        _proposals[p.Id] = (p, ProposalStatus.Applied, null);
        Apply(p, "therapist override");
        return _events.Skip(before).ToList();
    }

    /// <summary>
    /// Puts the session on a safety hold from outside the engine's own policy (e.g. the host lost the
    /// therapist console or restarted): intensity is not raised until the therapist releases it. Recorded.
    /// </summary>
    public void Hold(string why)
    {
        if (HoldActive) { Log("safety_alert", $"ALERT therapist: {why}"); return; }
        HoldActive = true;
        Log("safety_hold", $"safety hold on: {why}");
    }

    /// <summary>Releases a safety hold without changing the stimulus (recorded).</summary>
    public void ReleaseHold(string why)
    {
        if (!HoldActive) return;
        HoldActive = false;
        _activeSafety.Clear();
        Log("hold_released", $"safety hold released by the therapist: {why}");
    }

    /// <summary>Pauses the scene and the engine at once; cancels everything waiting. Always wins.</summary>
    public IReadOnlyList<EngineEvent> EmergencyStop(string? why = null)
    {
        int before = _events.Count;
        Stopped = true;
        HoldActive = true;
        foreach (var (id, entry) in _proposals.ToList())
            if (entry.Status is ProposalStatus.Pending or ProposalStatus.Scheduled)
            {
                _proposals[id] = (entry.Proposal, ProposalStatus.Cancelled, null);
                Log("cancelled", $"{id} cancelled by the emergency stop", entry.Proposal, ProposalStatus.Cancelled);
            }
        _snapshot = _snapshot with { Paused = true };
        var stop = new Proposal($"p{_nextId++}", _snapshot.Elapsed, ExposureAction.Stop, _snapshot.CurrentItemId, _parameters, _context,
            new[] { new Reason(ReasonKind.Therapist, "emergency-stop", why ?? "emergency stop pressed") }, 1.0, _snapshot.CurrentIntensity, _snapshot.CurrentIntensity);
        _proposals[stop.Id] = (stop, ProposalStatus.Applied, null);
        Log("emergency_stop", $"EMERGENCY STOP: scene paused, engine stopped{(why is null ? "" : ": " + why)}", stop, ProposalStatus.Applied);
        return _events.Skip(before).ToList();
    }

    /// <summary>Resumes after a pause or an emergency stop. The safety hold stays on until released.</summary>
    public void Resume(string why)
    {
        Stopped = false;
        _snapshot = _snapshot with { Paused = false };
        Log("resumed", $"resumed by the therapist: {why} (safety hold {(HoldActive ? "still active" : "off")})");
    }

    private (Proposal, ProposalStatus, DateTimeOffset?) Waiting(string id)
    {
        if (!_proposals.TryGetValue(id, out var e)) throw new ExposureInputException("proposalId", id, "no such proposal");
        if (e.Status is not (ProposalStatus.Pending or ProposalStatus.Scheduled))
            throw new ExposureInputException("proposalId", id, $"is {e.Status}, not waiting for a decision");
        return e;
    }

    private void Log(string kind, string text, Proposal? p = null, ProposalStatus? status = null) =>
        _events.Add(new EngineEvent(_snapshot.Elapsed, kind, text, p, status));

    /// <summary>The plan for the next session, from what this one learned.</summary>
    public SessionPlan PlanNextSession(int seed) =>
        NextSessionPlanner.Plan(_patient.Hierarchy, Expectancy, _trials, _snapshot.SessionNumber + 1, seed);
}
