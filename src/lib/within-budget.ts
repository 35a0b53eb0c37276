/** `work`'s result if it settles within `budgetMs`, else (or on failure) `fallback`; `work` itself runs on. */
export async function withinBudget<T>(work: Promise<T>, fallback: T, budgetMs: number): Promise<T> {
	let timer: ReturnType<typeof setTimeout> | null = null;
	const late = new Promise<T>((resolve) => {
		timer = setTimeout(() => resolve(fallback), budgetMs);
	});
	try {
		return await Promise.race([work.catch(() => fallback), late]);
	} finally {
		clearTimeout(timer);
	}
}
