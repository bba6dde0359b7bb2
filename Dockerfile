# Image for both services (see docker-compose.yml); `make up` does not need it.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY executor executor
COPY strategy strategy
COPY pumpflow pumpflow
COPY sim sim
COPY bench bench
COPY scripts scripts
COPY migrations migrations
RUN pip install --no-cache-dir -c constraints.txt -e .
ENV PYTHONUNBUFFERED=1
