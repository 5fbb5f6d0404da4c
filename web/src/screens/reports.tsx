/** Report requests of a club: ask for one, watch its progress bar fill live (`report:progress`
 * to the requester), download it when done. */
import { useEffect, useRef, useState } from "preact/hooks";
import { live } from "../live.ts";
import { api } from "../session.ts";
import { Badge, Button, ErrorNote, Panel, label, useAction, useLoad, when } from "../ui.tsx";

interface ReportJob {
  id: string;
  kind: string;
  format: string;
  as_of: string | null;
  status: "queued" | "running" | "done" | "failed";
  percent: number;
  error: { code: string; message: string } | null;
  created_at: string;
  download: { url: string; filename: string; size: number; expires_at: string } | null;
}

interface Progress {
  job_id: string;
  club_id: string;
  status: ReportJob["status"];
  percent: number;
  error?: { code: string; message: string };
}

const KINDS: [string, string][] = [
  ["valuation_statement", "Valuation statement"],
  ["member_status", "Member status"],
  ["member_statement", "My statement"],
  ["transaction_ledger", "Transaction ledger"],
];

export function ReportsPanel({ clubId }: { clubId: string }) {
  const list = useLoad(() => api<{ reports: ReportJob[] }>("GET", `/api/v1/clubs/${clubId}/reports`), [clubId]);
  const [jobs, setJobs] = useState<ReportJob[]>([]);
  const shown = useRef(jobs);
  shown.current = jobs;
  const [kind, setKind] = useState("valuation_statement");
  const [format, setFormat] = useState("pdf");
  useEffect(() => {
    if (list.data) setJobs(list.data.reports);
  }, [list.data]);
  // Progress arrives live; a job the list does not show yet (the event beat the POST's answer)
  // or one that finished is fetched whole, which also brings its signed download link.
  const fetchJob = (id: string) =>
    void api<ReportJob>("GET", `/api/v1/clubs/${clubId}/reports/${id}`).then(
      (job) => setJobs((all) => [job, ...all.filter((j) => j.id !== job.id)].sort((a, b) => b.created_at.localeCompare(a.created_at))),
      () => undefined,
    );
  useEffect(
    () =>
      live.on("report:progress", (p: Progress) => {
        if (p.club_id !== clubId) return;
        const known = shown.current.some((j) => j.id === p.job_id);
        setJobs((all) =>
          all.map((j) => (j.id === p.job_id ? { ...j, status: p.status, percent: Math.max(j.percent, p.percent), error: p.error ?? j.error } : j)),
        );
        if (!known || p.status === "done" || p.status === "failed") fetchJob(p.job_id);
      }),
    [clubId],
  );
  // Socket.IO is at-most-once: while a job is unfinished, also ask now and then.
  const unfinished = jobs.filter((j) => j.status === "queued" || j.status === "running").map((j) => j.id);
  useEffect(() => {
    if (unfinished.length === 0) return;
    const timer = window.setInterval(() => unfinished.forEach(fetchJob), 4_000);
    return () => clearInterval(timer);
  }, [unfinished.join()]);
  const request = useAction(async () => {
    const job = await api<ReportJob>("POST", `/api/v1/clubs/${clubId}/reports`, { body: { kind, format } });
    setJobs((all) => [job, ...all.filter((j) => j.id !== job.id)]);
  });
  const unavailable = list.error && (list.error as { status?: number }).status === 404 && (list.error as { code?: string }).code !== "club_not_found";
  return (
    <Panel title="Reports" testId="reports-panel">
      {unavailable ? (
        <p class="muted small">Reports are not available on this server yet.</p>
      ) : (
        <>
          <form class="inline-form" onSubmit={(e) => { e.preventDefault(); void request.run(); }}>
            <select data-testid="report-kind" value={kind} onChange={(e) => setKind((e.currentTarget as HTMLSelectElement).value)} aria-label="Report">
              {KINDS.map(([value, text]) => <option key={value} value={value}>{text}</option>)}
            </select>
            <select data-testid="report-format" value={format} onChange={(e) => setFormat((e.currentTarget as HTMLSelectElement).value)} aria-label="Format">
              <option value="pdf">PDF</option>
              <option value="csv">CSV</option>
            </select>
            <Button kind="secondary" type="submit" busy={request.busy} testId="report-request">Request</Button>
          </form>
          <ErrorNote error={request.error ?? list.error} />
          <ul class="rows" data-testid="reports">
            {jobs.slice(0, 6).map((job) => (
              <li key={job.id} class="report" data-testid={`report-${job.id}`} data-status={job.status} data-percent={job.percent}>
                <span class="report-name">
                  {KINDS.find(([v]) => v === job.kind)?.[1] ?? label(job.kind)} <span class="muted small">{job.format.toUpperCase()} · {when(job.created_at)}</span>
                </span>
                {job.status === "done" && job.download ? (
                  <a class="btn btn-secondary btn-small" href={job.download.url} download={job.download.filename} data-external data-testid={`report-download-${job.id}`}>Download</a>
                ) : job.status === "failed" ? (
                  <Badge tone="bad">{job.error?.message ?? "Failed"}</Badge>
                ) : (
                  <span class="progress" role="progressbar" aria-valuenow={job.percent} aria-valuemin={0} aria-valuemax={100} data-testid={`report-progress-${job.id}`}>
                    <span class="progress-fill" style={{ width: `${job.percent}%` }} />
                    <span class="progress-text">{job.percent}%</span>
                  </span>
                )}
              </li>
            ))}
          </ul>
        </>
      )}
    </Panel>
  );
}
