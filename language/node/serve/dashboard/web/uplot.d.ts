// The part of uPlot's API the page uses (uPlot ships its types without a `types` entry).
declare module 'uplot' {
  interface Series {
    label?: string;
    stroke?: string;
    fill?: string;
    width?: number;
    spanGaps?: boolean;
    value?: (u: unknown, v: number | null) => string;
  }
  interface Options {
    width: number;
    height: number;
    title?: string;
    series: Series[];
    axes?: { stroke?: string; grid?: { stroke?: string }; values?: (u: unknown, vals: number[]) => string[] }[];
    scales?: Record<string, { time?: boolean; distr?: number; log?: number }>;
    legend?: { show?: boolean };
    cursor?: { show?: boolean };
  }
  class uPlot {
    constructor(opts: Options, data: (number | null)[][], target: HTMLElement);
    setData(data: (number | null)[][]): void;
    setSize(size: { width: number; height: number }): void;
    destroy(): void;
  }
  export default uPlot;
}
